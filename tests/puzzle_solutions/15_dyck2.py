from rasplab import aggregate, indices, select, selector_width, tokens, zipmap

PAIRS = {")": "(", "}": "{"}


def dyck2():
    prefix = select(indices, indices, "<=")
    closer = tokens.map(lambda t: t in PAIRS)
    step = tokens.map(lambda t: -1 if t in PAIRS else 1)
    depth = zipmap(lambda m, i: round(m * (i + 1)), aggregate(prefix, step), indices)
    level = zipmap(lambda d, c: d + 1 if c else d, depth, closer)
    # earlier brackets on my level: opener, closer, ..., opener when all is well
    same_level = select(level, level, "==") & select(indices, indices, "<")
    width = selector_width(same_level)
    round_open = aggregate(same_level, tokens.map(lambda t: {"(": 1, ")": -1}.get(t, 0)))
    curly_open = aggregate(same_level, tokens.map(lambda t: {"{": 1, "}": -1}.get(t, 0)))
    bad = zipmap(_bad, tokens, depth, round_open, curly_open, width)
    failed = aggregate(prefix, bad) > 0
    return zipmap(lambda f, d: "F" if f else ("T" if d == 0 else "P"), failed, depth)


def _bad(token, depth, round_mean, curly_mean, width):
    if depth < 0:
        return 1
    if token == ")":
        return int(round(round_mean * width) != 1)
    if token == "}":
        return int(round(curly_mean * width) != 1)
    return 0
