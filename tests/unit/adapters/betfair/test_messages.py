import pytest

from adapters.betfair.messages import (
    HEARTBEAT,
    SUB_IMAGE,
    UPDATE,
    ChangeMessage,
    ConnectionMessage,
    DecodeError,
    StatusMessage,
    UnknownMessage,
    decode_message,
    encode_request,
)


def test_connection_message_carries_the_connection_id():
    message = decode_message(b'{"op":"connection","connectionId":"002-123"}')

    assert message == ConnectionMessage(id=None, connection_id="002-123")


def test_status_failure_exposes_error_code_and_closed_connection():
    raw = (
        b'{"op":"status","id":3,"statusCode":"FAILURE","errorCode":"INVALID_SESSION_INFORMATION",'
        b'"errorMessage":"expired","connectionClosed":true,"connectionsAvailable":9}'
    )

    message = decode_message(raw)

    assert isinstance(message, StatusMessage)
    assert message.is_failure and message.connection_closed
    assert (message.error_code, message.error_message) == ("INVALID_SESSION_INFORMATION", "expired")
    assert message.connections_available == 9


def test_status_success_is_not_a_failure():
    message = decode_message('{"op":"status","id":2,"statusCode":"SUCCESS"}')

    assert isinstance(message, StatusMessage) and not message.is_failure
    assert not message.connection_closed


def test_market_change_message_fields_and_default_change_type():
    raw = b'{"op":"mcm","id":2,"clk":"AAA","pt":5,"mc":[{"id":"1.1"}],"status":503}'

    message = decode_message(raw)

    assert isinstance(message, ChangeMessage)
    assert (message.op, message.id, message.ct, message.pt, message.clk) == (
        "mcm",
        2,
        UPDATE,
        5,
        "AAA",
    )
    assert message.changes == [{"id": "1.1"}]
    assert message.status == 503 and not message.is_heartbeat


def test_sub_image_and_heartbeat_change_types():
    image = decode_message(
        '{"op":"mcm","id":1,"initialClk":"I","clk":"C","conflateMs":0,"heartbeatMs":5000,'
        '"pt":1,"ct":"SUB_IMAGE","mc":[]}'
    )
    heartbeat = decode_message('{"op":"mcm","id":1,"clk":"D","pt":2,"ct":"HEARTBEAT"}')

    assert isinstance(image, ChangeMessage) and image.ct == SUB_IMAGE
    assert (image.initial_clk, image.heartbeat_ms, image.conflate_ms) == ("I", 5000, 0)
    assert isinstance(heartbeat, ChangeMessage) and heartbeat.ct == HEARTBEAT
    assert heartbeat.is_heartbeat and heartbeat.changes == []


def test_order_race_and_cricket_changes_use_their_own_payload_keys():
    order = decode_message('{"op":"ocm","pt":1,"clk":"x","oc":[{"id":"1.2"}]}')
    race = decode_message('{"op":"rcm","pt":1,"clk":12,"rc":[{"mid":"1.3"}]}')
    cricket = decode_message('{"op":"ccm","pt":1,"cc":[{"marketId":"1.4"}]}')

    assert isinstance(order, ChangeMessage) and order.changes == [{"id": "1.2"}]
    assert isinstance(race, ChangeMessage) and race.clk == "12"
    assert isinstance(cricket, ChangeMessage) and cricket.op == "ccm"


def test_unknown_op_is_kept_not_an_error():
    message = decode_message('{"op":"newThing","x":1}')

    assert message == UnknownMessage("newThing", {"op": "newThing", "x": 1})


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (b'{"op":"mcm","pt":1', "json"),
        (b"", "json"),
        (b"\xff\xfe", "json"),
        (b"[1,2]", "not_object"),
        (b'{"id":1}', "no_op"),
        (b'{"op":"mcm","mc":[]}', "field"),
        (b'{"op":"mcm","pt":"1","mc":[]}', "field"),
        (b'{"op":"mcm","pt":1,"ct":"WHAT","mc":[]}', "field"),
        (b'{"op":"mcm","pt":1,"mc":{"id":"1.1"}}', "field"),
    ],
)
def test_bad_lines_become_decode_errors_with_a_snippet(raw, kind):
    error = decode_message(raw)

    assert isinstance(error, DecodeError)
    assert error.kind == kind
    assert error.snippet == raw[:120].decode("utf-8", "replace").rstrip()
    assert kind in str(error)


def test_encode_request_is_one_crlf_terminated_json_line():
    line = encode_request({"op": "heartbeat", "id": 7})

    assert line == b'{"op":"heartbeat","id":7}\r\n'
