from tests.support.configs import v2_config
from tests.support.gateway import Api


def test_create_publish_get(editor: Api) -> None:
    created = editor.create(key="welcome", name="Welcome", draftConfig=v2_config())
    assert created.status == 201, created.body
    published = editor.publish(id=created.body["id"], notes="first")
    assert published.status == 200, published.body
    assert published.body["liveVersion"] == 1
    listed = editor.get()
    assert listed.status == 200, listed.body
    print(listed.body)
