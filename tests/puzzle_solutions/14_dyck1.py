from rasplab import aggregate, indices, select, tokens, zipmap


def dyck1():
    prefix = select(indices, indices, "<=")
    step = tokens.map(lambda t: 1 if t == "(" else -1)
    depth = zipmap(lambda m, i: round(m * (i + 1)), aggregate(prefix, step), indices)
    went_negative = aggregate(prefix, (depth < 0).map(int)) > 0
    return zipmap(lambda f, d: "F" if f else ("T" if d == 0 else "P"), went_negative, depth)
