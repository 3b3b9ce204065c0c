from rasplab import aggregate, indices, length, select, selector_width, tokens, zipmap


def add():
    digit = tokens.map(lambda t: 0 if t == "+" else int(t))
    # length and a select-everything aggregate share one head
    plus_mean = aggregate(select(tokens, tokens, "true"), zipmap(_at_plus, tokens, indices))
    plus = zipmap(lambda m, n: round(m * n), plus_mean, length)
    b = zipmap(lambda i, p, d: d if i > p else 0, indices, plus, digit)
    source = zipmap(lambda i, p, n: i - n + p, indices, plus, length)
    a = aggregate(select(indices, source, "=="), digit, 0)
    column = a + b
    not_nine = column != 9
    seen = selector_width(select(not_nine, True, "==") & select(indices, indices, "<="))
    nearest_right = select(seen, seen + 1, "==") & select(not_nine, True, "==")
    carry = aggregate(nearest_right, (column > 9).map(int), 0)
    return zipmap(lambda c, k: str((c + k) % 10), column, carry)


def _at_plus(token, i):
    return i if token == "+" else 0
