"""Hypothesis strategies for DynamoDB items of every type, shared by the codec's unit test
and the export + restore round trip against moto."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

# Numbers as DynamoDB holds them: up to 38 significant digits, well inside its exponent range.
digits38 = st.integers(min_value=-(10**38 - 1), max_value=10**38 - 1)
numbers = st.one_of(
    digits38.map(str),
    st.tuples(digits38, st.integers(-40, 40)).map(lambda t: str(Decimal(t[0]).scaleb(t[1]))),
)
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8)
scalars = st.one_of(
    text.map(lambda s: {"S": s}),
    numbers.map(lambda n: {"N": n}),
    st.binary(max_size=16).map(lambda b: {"B": b}),
    st.lists(text.filter(bool), min_size=1, max_size=4, unique=True).map(lambda v: {"SS": v}),
    st.lists(numbers, min_size=1, max_size=4, unique_by=Decimal).map(lambda v: {"NS": v}),
    st.lists(st.binary(min_size=1, max_size=8), min_size=1, max_size=4, unique=True).map(
        lambda v: {"BS": v}
    ),
    st.just({"NULL": True}),
    st.booleans().map(lambda b: {"BOOL": b}),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda v: {"L": v}),
        st.dictionaries(names, inner, max_size=3).map(lambda v: {"M": v}),
    ),
    max_leaves=8,
)
attributes = st.dictionaries(names.filter(lambda n: n != "stat"), values, max_size=5)
tables = st.lists(
    st.tuples(text.filter(bool), attributes), min_size=1, max_size=6, unique_by=lambda t: t[0]
).map(lambda rows: [{"stat": {"S": key}, **attrs} for key, attrs in rows])
