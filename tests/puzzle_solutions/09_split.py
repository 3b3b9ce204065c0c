from rasplab import aggregate, indices, length, select, tokens, zipmap


def split(part):
    found = aggregate(select(tokens, "+", "=="), indices, -1)
    cut = zipmap(lambda p, n: n if p < 0 else p, found, length)
    if part == 1:
        return zipmap(lambda i, c, t: t if i > c else "-", indices, cut, tokens)
    source = indices - length + cut
    return aggregate(select(indices, source, "=="), tokens, "-")
