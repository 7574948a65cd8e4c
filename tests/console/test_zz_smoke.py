from tests.console.console_helpers import Convo, store, login
def test_smoke(client, admin, console_url):
    c = Convo().turn("hello <script>alert(1)</script>", "greet").turn("what is it", "ask_what_is")
    c.record("consultation_request", updated_at=c.c.records and None or __import__('datetime').datetime.now(), kind="mesotherapy", name="X", email="x@example.com", phone=None, time_window="mornings", consent_at=__import__('datetime').datetime.now(), status="new", reason=None)
    store(console_url, c)
    r = login(client, "alice"); assert r.status_code == 303, r.text
    for p in ["/inbox", "/inbox?outcome=consultation&q=hello", f"/conversations/{c.sender_id}", "/followups", "/followups/export.csv", "/improve", "/overview", "/overview?days=30", "/admin/audit", "/admin/users", f"/conversations/{c.sender_id}/export.csv"]:
        r = client.get(p)
        assert r.status_code == 200, (p, r.status_code, r.text[-3000:])
    print(client.get("/inbox").text[-2500:])
