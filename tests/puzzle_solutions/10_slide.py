from rasplab import aggregate, indices, select, selector_width, tokens, zipmap


def slide():
    real = tokens != "<"
    seen = selector_width(select(real, True, "==") & select(indices, indices, "<="))
    wanted = zipmap(lambda r, s: s if r else s + 1, real, seen)
    return aggregate(select(seen, wanted, "==") & select(real, True, "=="), tokens, "<")
