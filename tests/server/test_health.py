def test_healthz(live):
    r = live.api().get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_unknown_api_route_is_json_404(live):
    r = live.api().get("/api/v1/tidak-ada")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
