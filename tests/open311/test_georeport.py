"""The PyPI Open311 client `georeport` against a running yijia with the demo
community: list services, fetch a service definition, list requests, fetch
one request, in JSON and in XML. Usage: python test_georeport.py BASE_URL"""

import sys

from georeport import GeoReport

base = sys.argv[1].rstrip("/") + "/open311/v2"


def as_list(v):
    return v if isinstance(v, list) else [v]


for fmt in ("json", "xml"):
    client = GeoReport(base, jurisdiction="chengnan", output_format=fmt)

    services = as_list(client.get_service_list())
    codes = [s["service_code"] for s in services]
    assert "repair" in codes and "structure" in codes, codes
    gas = next(s for s in services if s["service_code"] == "gas")
    assert gas["service_name"] == "燃气隐患", gas
    assert str(gas["metadata"]).lower() == "true", gas

    definition = client.get_service_definition("structure")
    assert definition["service_code"] == "structure", definition
    attributes = definition["attributes"]
    if fmt == "xml":
        attributes = as_list(attributes["attribute"])
    priority = next(a for a in attributes if a["code"] == "priority")
    values = priority["values"] if fmt == "json" else as_list(priority["values"]["value"])
    assert {v["key"] for v in values} == {"emergency", "urgent", "ordinary", "complex"}, values

    requests = as_list(client.get_service_requests())
    assert len(requests) > 50, len(requests)
    assert all(r["status"] in ("open", "closed") for r in requests)
    # the public list shows no personal data
    assert all("description" not in r and "phone" not in r for r in requests)
    closed = as_list(client.get_service_requests(status="closed"))
    assert closed and all(r["status"] == "closed" for r in closed)

    first = requests[0]
    one = client.get_service_request(first["service_request_id"])
    assert one["service_request_id"] == first["service_request_id"], one
    assert one["service_code"] == first["service_code"], one
    print(f"georeport {fmt}: {len(services)} services, {len(requests)} requests, request {one['service_request_id']} ok")

print("georeport: all passed")
