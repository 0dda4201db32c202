"""Column roles and dataset kinds: which column is the customer, the date, the amount …

Roles are detected from normalised header names with English and Chinese aliases and can always
be set explicitly (--map role=Column). Detection is by name only, never by content, so it is
predictable and the printed mapping explains itself.
"""

from __future__ import annotations

import re
import unicodedata

# role -> aliases (normalised: lower snake_case; Chinese as-is). First match in column order wins.
ROLE_ALIASES: dict[str, tuple[str, ...]] = {
    "customer": (
        "customer_id",
        "customerid",
        "customer",
        "client_id",
        "client",
        "cust_id",
        "buyer_id",
        "member_id",
        "account_id",
        "客户id",
        "客户编号",
        "客户",
        "会员id",
        "用户id",
        "顾客id",
    ),
    "order": (
        "invoice_no",
        "invoiceno",
        "invoice",
        "invoice_id",
        "order_id",
        "orderid",
        "order_no",
        "order_number",
        "order",
        "transaction_id",
        "receipt_id",
        "订单号",
        "订单编号",
        "订单id",
        "订单",
        "发票号",
    ),
    "date": (
        "invoice_date",
        "invoicedate",
        "order_date",
        "orderdate",
        "date",
        "transaction_date",
        "purchase_date",
        "timestamp",
        "datetime",
        "ds",
        "日期",
        "下单日期",
        "订单日期",
        "交易日期",
        "时间",
        "下单时间",
    ),
    "item": (
        "stock_code",
        "stockcode",
        "item_id",
        "itemid",
        "product_id",
        "productid",
        "sku",
        "item",
        "product",
        "商品id",
        "商品编号",
        "商品",
        "产品",
        "产品id",
    ),
    "quantity": ("quantity", "qty", "units", "数量", "件数"),
    "price": ("unit_price", "unitprice", "price", "单价", "价格"),
    "amount": (
        "amount",
        "total",
        "revenue",
        "sales",
        "order_value",
        "value",
        "spend",
        "line_total",
        "金额",
        "总金额",
        "销售额",
        "总价",
        "消费金额",
    ),
    "user": ("user_id", "userid", "user", "reviewer_id", "用户id", "用户"),
    "rating": ("rating", "stars", "star_rating", "评分", "星级"),
    "text": (
        "text",
        "review",
        "review_text",
        "comment",
        "comments",
        "content",
        "body",
        "sentence",
        "feedback",
        "评论",
        "评价",
        "内容",
        "文本",
    ),
    "label": ("label", "sentiment", "polarity", "class", "标签", "情感", "类别"),
    "series": ("series", "series_id", "store", "store_id", "shop", "region", "门店", "系列"),
}

# Which roles each kind needs and which it can use. Detection fills what it finds.
KIND_ROLES: dict[str, tuple[str, ...]] = {
    "transactions": ("customer", "order", "date", "item", "quantity", "price", "amount"),
    "customers": ("customer",),
    "ratings": ("user", "item", "rating", "date"),
    "reviews": ("text", "label"),
    "sales": ("date", "series", "amount", "quantity", "price"),
    "labelled": ("target",),
    "table": (),
}
KINDS = tuple(KIND_ROLES)

# Roles whose values are identifiers: always kept as text ("17850", not 17850.0).
ID_ROLES = frozenset({"customer", "order", "item", "user", "series"})
TEXT_ROLES = frozenset({"text"})

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def normalise_name(name: object) -> str:
    """'  Customer ID ' -> 'customer_id', 'InvoiceNo' -> 'invoice_no', '客户ID' -> '客户id'."""
    text = unicodedata.normalize("NFKC", str(name)).strip().lstrip("\ufeff")
    text = _CAMEL.sub("_", text)
    text = _NON_WORD.sub("_", text).strip("_").lower()
    return text or "column"


def normalise_names(names: list[object]) -> list[str]:
    """Normalised, unique header names (duplicates get _2, _3 …)."""
    bases = [normalise_name(name) for name in names]
    taken: set[str] = set()
    out = []
    for base in bases:
        name, count = base, 1
        while name in taken:  # 'a', 'a', 'a_2' -> 'a', 'a_2', 'a_2_2'
            count += 1
            name = f"{base}_{count}"
        taken.add(name)
        out.append(name)
    return out


def _compact(name: str) -> str:
    return name.replace("_", "")


def detect_roles(columns: list[str], explicit: dict[str, str] | None = None) -> dict[str, str]:
    """Role -> column, explicit mapping first, then aliases; a column plays at most one role."""
    roles = dict(explicit or {})
    taken = set(roles.values())
    compact = {_compact(c): c for c in columns}
    for role, aliases in ROLE_ALIASES.items():
        if role in roles:
            continue
        for alias in aliases:
            column = compact.get(_compact(alias))
            if column is not None and column not in taken:
                roles[role] = column
                taken.add(column)
                break
    # 用户id is a customer in orders but the user in ratings: a rating column decides.
    if (
        "rating" in roles
        and "user" not in roles
        and "customer" in roles
        and not (explicit and "customer" in explicit)
    ):
        roles["user"] = roles.pop("customer")
    return roles


def detect_kind(roles: dict[str, str]) -> str:
    """The dataset kind that best explains the detected roles."""
    has = set(roles)
    if "target" in has:
        return "labelled"
    if "text" in has:
        return "reviews"
    if {"user", "item", "rating"} <= has:
        return "ratings"
    if (
        "date" in has
        and ({"customer", "order"} & has)
        and ("amount" in has or {"quantity", "price"} <= has)
    ):
        return "transactions"
    if "date" in has and ({"amount", "quantity"} & has):
        return "sales"
    if "customer" in has:
        return "customers"
    return "table"


def roles_for_kind(kind: str, roles: dict[str, str]) -> dict[str, str]:
    """Keep the roles a kind uses (plus explicit extras such as target)."""
    wanted = set(KIND_ROLES.get(kind, ())) | {"target", "label", "text", "is_return"}
    if kind == "table":
        return dict(roles)
    return {role: col for role, col in roles.items() if role in wanted}
