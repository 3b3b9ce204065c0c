from rasplab import aggregate, indices, select, selector_width, tokens, zipmap


def most_frequent():
    count = selector_width(select(tokens, tokens, "=="))
    earlier = selector_width(select(tokens, tokens, "==") & select(indices, indices, "<"))
    firsts = earlier == 0
    key = zipmap(lambda f, c: -c if f else 0, firsts, count)
    before = select(key, key, "<") | (select(key, key, "==") & select(indices, indices, "<"))
    target = selector_width(before)
    shown = zipmap(lambda f, t: t if f else "-", firsts, tokens)
    return aggregate(select(target, indices, "=="), shown)
