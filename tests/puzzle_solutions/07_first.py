from rasplab import aggregate, indices, select, selector_width, tokens


def first(token):
    here = tokens == token
    earlier = selector_width(select(tokens, token, "==") & select(indices, indices, "<"))
    is_first = here & (earlier == 0)
    return aggregate(select(is_first, True, "=="), indices, -1)
