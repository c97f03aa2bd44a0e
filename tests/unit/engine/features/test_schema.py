import copy
import hashlib
import json

from engine.features import schema


def test_static_vector_has_the_blueprint_seven_columns():
    assert schema.STATIC_DIM == 7
    assert schema.STATIC_COLUMNS[0] == "pre_match_logit"
    assert schema.STATIC_COLUMNS[1:3] == ("best_of_3", "best_of_5")


def test_token_is_about_65_unique_columns_in_known_groups():
    assert 60 <= schema.TOKEN_DIM <= 72
    assert len(set(schema.TOKEN_COLUMNS)) == schema.TOKEN_DIM
    assert {c.group for c in schema.TOKEN_SPEC} == set(schema.GROUPS)
    for name in ("mto_flag", "pts_since_mto", "exp_decay_mto", "residual", "suspended"):
        assert name in schema.TOKEN_INDEX


def test_book_columns_are_exactly_the_book_group():
    mask = schema.book_mask()
    assert mask.sum() == len(schema.BOOK_COLUMNS) == 20
    assert [schema.TOKEN_COLUMNS[i] for i in mask.nonzero()[0]] == list(schema.BOOK_COLUMNS)
    assert "suspended" in schema.BOOK_COLUMNS
    # the MTO regime, fair price and residual survive in emu_lite
    for name in ("mto_flag", "fair_prob", "residual", "server_is_p1"):
        assert name not in schema.BOOK_COLUMNS


def test_hash_is_sha256_of_canonical_document():
    document = schema.schema_document()
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    assert hashlib.sha256(canonical).hexdigest() == schema.SCHEMA_HASH
    assert document["version"] == schema.SCHEMA_VERSION


def test_hash_changes_on_reorder_rename_or_regroup():
    base = schema.schema_document()
    reordered = copy.deepcopy(base)
    tokens = reordered["token"]
    tokens[0], tokens[1] = tokens[1], tokens[0]
    renamed = copy.deepcopy(base)
    renamed["token"][0]["name"] = "server"
    regrouped = copy.deepcopy(base)
    regrouped["token"][-1]["book"] = True
    hashes = {schema.hash_document(d) for d in (base, reordered, renamed, regrouped)}
    assert len(hashes) == 4
