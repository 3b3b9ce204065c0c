from rasplab import aggregate, indices, select, selector_width, tokens, zipmap


def ralign():
    blank = tokens == "-"
    blanks_after = selector_width(select(tokens, "-", "==") & select(indices, indices, ">"))
    target = zipmap(lambda b, i, n: -1 if b else i + n, blank, indices, blanks_after)
    return aggregate(select(target, indices, "=="), tokens, "-")
