from rasplab import aggregate, indices, select, selector_width, tokens


def sort():
    before = select(tokens, tokens, "<") | (
        select(tokens, tokens, "==") & select(indices, indices, "<")
    )
    target = selector_width(before)
    return aggregate(select(target, indices, "=="), tokens)
