"""
Schemathesis hooks for test/api/fuzz.test.ts (loaded through SCHEMATHESIS_HOOKS): generators for the
inputs a schema alone does not lead a fuzzer to, each of which once answered 500 (issue 21):

- days and instants at the edges RFC 3339 allows: year 0000, leap seconds, offsets to +-23:59,
  long fractions, lowercase and space separators (the `date` and `date-time` formats);
- cursors crafted as the API encodes them (base64url JSON) with instants and keys Postgres refuses;
- case data of the published `return` playbook with money at the edges of what the ledger holds;
- bodies over the 1 MiB limit, sent whole (the client does not wait for 100-continue), in the examples.
"""

import base64
import json

import schemathesis
from hypothesis import strategies as st

MIB = 1024 * 1024


def digits(low, high, width):
    return st.integers(low, high).map(lambda value: f"{value:0{width}d}")


# Half valid instants (any day, any offset within +-15:59), half edges: days and times RFC 3339 allows
# that the database does not hold, or that parsers trip on.
valid_day = st.dates().map(str)
valid_instant = st.builds(
    "{}T{}:{}:{}{}{}".format, valid_day, digits(0, 23, 2), digits(0, 59, 2), digits(0, 59, 2),
    st.one_of(st.just(""), st.text(alphabet="0123456789", min_size=1, max_size=9).map(".".__add__)),
    st.one_of(st.just("Z"), st.builds("{}{}:{}".format, st.sampled_from("+-"), digits(0, 15, 2), digits(0, 59, 2))),
)
edge_day = st.sampled_from(["0000-01-01", "0000-02-29", "0001-01-01", "1969-12-31", "1970-01-01", "2024-02-29", "9999-12-31"])
edge_instant = st.builds(
    "{}{}{}{}{}".format,
    st.one_of(edge_day, valid_day),
    st.sampled_from(["T", "t", " "]),
    st.sampled_from(["00:00:00", "23:59:59", "23:59:60", "12:30:00"]),
    st.sampled_from(["", ".5", ".999999", ".123456789012"]),
    st.sampled_from(["Z", "z", "+00", "+0800", "+15:59", "-15:59", "+16:00", "-16:00", "+23:59", "-23:59", "+14:00"]),
)
day = st.one_of(valid_day, edge_day)
instant = st.one_of(valid_instant, edge_instant)

schemathesis.openapi.format("date", day)
schemathesis.openapi.format("date-time", instant)


def base64url_json(value):
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


# What a cursor holds: [instant as Postgres prints it, case id or row id] (["inbox", id] for the inbox).
cursor_instant = st.one_of(
    instant,
    st.sampled_from(["2026-13-45 25:61:61+00", "2026-11-01 08:00:00+99", "2026-02-30 00:00:00+00", "inbox", ""]),
    st.text(max_size=30),
)
cursor_key = st.one_of(
    st.sampled_from([0, 1, -1, 2**31, 2**53 - 1, 2**53, 2**63, 2**64, "a\u0000b", "\ud800", "", "case-1"]),
    st.integers(),
    st.text(max_size=20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.none(),
)
cursor = st.one_of(
    st.tuples(cursor_instant, cursor_key).map(list),
    st.lists(cursor_key, max_size=3),
    cursor_key,
).map(base64url_json)


@schemathesis.hook("flatmap_query").apply_to(name_regex=r"^GET /v1/(cases|tasks|escalations|inbox)$")
def crafted_cursor(ctx, query):
    if not isinstance(query, dict):
        return st.just(query)
    return st.one_of(st.just(query), cursor.map(lambda crafted: {**query, "cursor": crafted}))


amount = st.one_of(
    st.sampled_from([0, 1, 2**31 - 1, 2**53 - 2, 2**53 - 1, 2**53, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -1, -(2**63)]),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
)
money = st.fixed_dictionaries({"amount": amount, "currency": st.sampled_from(["CNY", "USD"])})
return_case = st.fixed_dictionaries(
    {
        "order_id": st.text(min_size=1, max_size=20),
        "buyer_name": st.text(max_size=20),
        "order_total": money,
        "outbound_shipping": money,
        "shipped_free": st.booleans(),
        "signed_at": instant,
        "reason": st.sampled_from(["quality", "no_reason", "changed_mind"]),
        "shipping_insurance": st.booleans(),
    },
    optional={"advanced_return_shipping": money},
).map(lambda data: {"playbook": "return", "data": data})

# Sent once each (EXAMPLES below): drawn at random they would cost seconds per operation for nothing new.
OVERSIZED = [MIB + 1, 4 * MIB]


@schemathesis.hook("flatmap_body").apply_to(name="POST /v1/cases")
def return_case_data(ctx, body):
    return st.one_of(st.just(body), return_case)


# The inputs issue 21 found answering 500, each sent once in the examples phase (the generators above
# draw around them, but a bounded run need not draw each one).
REFUSED_INSTANTS = ["0000-01-01", "2026-11-01T08:00:00+16:00", "2026-11-01T08:00:00-23:59", "2026-12-31T23:59:60Z"]
CRAFTED_CURSORS = [
    base64url_json([at, key])
    for at in ["2026-13-45 25:61:61+00", "0000-01-01 00:00:00+00", "2026-11-01 08:00:00+16", "2026-11-01T08:00:00+20:00"]
    for key in ["case-1", 1]
] + [base64url_json(["2026-11-01 08:00:00+00", "a\u0000b"])]


def return_case_with(**money):
    data = {
        "order_id": "FUZZ-1", "buyer_name": "Fuzz", "order_total": {"amount": 19900, "currency": "CNY"},
        "outbound_shipping": {"amount": 800, "currency": "CNY"}, "shipped_free": False, "signed_at": "2026-11-01T08:00:00Z",
        "reason": "no_reason", "shipping_insurance": False,
    }
    data.update({name: {"amount": value, "currency": "CNY"} for name, value in money.items()})
    return {"playbook": "return", "data": data}


EXAMPLES = {
    "GET /v1/cases": [{"query": {name: at}} for name in ["openedFrom", "openedTo"] for at in REFUSED_INSTANTS]
    + [{"query": {"cursor": cursor}} for cursor in CRAFTED_CURSORS],
    "GET /v1/tasks": [{"query": {"cursor": cursor}} for cursor in CRAFTED_CURSORS],
    "GET /v1/escalations": [{"query": {"cursor": cursor}} for cursor in CRAFTED_CURSORS],
    "GET /v1/audit/export": [{"query": {"closedFrom": at, "closedTo": "2026-12-01"}} for at in REFUSED_INSTANTS]
    + [{"query": {"closedFrom": "2026-11-01", "closedTo": at}} for at in REFUSED_INSTANTS],
    "POST /v1/cases": [
        {"body": return_case_with(order_total=value), "media_type": "application/json"} for value in [2**53 - 2, 2**53 - 1, 2**53, 2**63]
    ]
    + [{"body": return_case_with(outbound_shipping=2**53 - 1), "media_type": "application/json"}]
    + [{"body": {"playbook": "return", "data": {"buyer_name": "a" * size}}, "media_type": "application/json"} for size in OVERSIZED],
    "PUT /v1/playbooks/{name}": [
        {"path_parameters": {"name": "big"}, "body": "playbook: big\n#" + "a" * size, "media_type": "application/yaml"} for size in OVERSIZED
    ],
    "POST /v1/playbooks/validate": [{"body": "playbook: big\n#" + "a" * size, "media_type": "application/yaml"} for size in OVERSIZED],
}


@schemathesis.hook
def before_add_examples(ctx, examples):
    for case in EXAMPLES.get(ctx.operation.label, []):
        examples.append(ctx.operation.Case(**case))
