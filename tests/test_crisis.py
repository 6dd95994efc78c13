"""Crisis recognition: normalisation, the pattern language, vetoes, the shipped lexicons and
their file format, on the real package (the real lexicon files, or small lexicons parsed by
the same reader)."""

from __future__ import annotations

import builtins
import fnmatch
import tomllib
from pathlib import Path

import pytest

from bot import crisis
from bot.crisis import CATEGORIES, Crisis, LexiconError, detect, detect_all
from bot.crisis.lexicon import load, parse_lexicon
from bot.crisis.match import Matcher
from bot.crisis.normalise import canonical, tokens
from bot.i18n import LOCALES

ROOT = Path(__file__).resolve().parent.parent


def words(text: str, locale: str = "en_GB") -> list[str]:
    """The canonical words of `text` after `locale`'s SMS table (first reading of each)."""
    return [t.raw for t in canonical(tokens(text), crisis.matcher(locale).lexicon.sms)]


def small(text: str) -> Matcher:
    """A lexicon of a few lines, read by the real reader and compiled by the real matcher."""
    return Matcher(parse_lexicon(text, "xx", "small.txt"))


def fires(m: Matcher, text: str) -> list[str]:
    return [h.rule.id for h in m.hits(tokens(text))]


# --- normalisation -----------------------------------------------------------------------

def test_case_accents_and_polish_letters_fold() -> None:
    assert [t.raw for t in tokens("NÓŻ Łódź Zażółć")] == ["noz", "lodz", "zazolc"]


@pytest.mark.parametrize("typed", ["he's outside", "he’s outside", "hes outside", "he s outside",
                                   "HE'S OUTSIDE"])
def test_apostrophes_and_their_absence_read_the_same(typed: str) -> None:
    assert words(typed) == ["he", "is", "outside"]


@pytest.mark.parametrize(("typed", "reading"), [
    ("heeelp", "help"), ("pleeeease", "please"), ("nooo", "no"), ("kiiiill", "kill")])
def test_letters_typed_many_times_are_read_once_or_twice(typed: str, reading: str) -> None:
    assert reading in tokens(typed)[0].forms


def test_a_double_letter_is_not_squeezed_so_soon_is_not_son() -> None:
    assert "son" not in tokens("soon")[0].forms


@pytest.mark.parametrize(("typed", "reading"), [("k1ll", "kill"), ("h3lp", "help"),
                                                ("h@mmer", "hammer"), ("5tab", "stab")])
def test_digits_and_symbols_inside_words_read_as_letters(typed: str, reading: str) -> None:
    assert reading in tokens(typed)[0].forms


def test_a_number_stuck_to_its_unit_is_two_words_with_their_own_spans() -> None:
    toks = tokens("took 20mg")
    assert [t.raw for t in toks] == ["took", "20", "mg"]
    assert [(t.start, t.end) for t in toks[1:]] == [(5, 7), (7, 9)]


@pytest.mark.parametrize(("typed", "canonical_words"), [
    ("im scared", "i am scared"), ("i dont know", "i do not know"),
    ("i cant breathe", "i can not breathe"), ("he wont go", "he will not go"),
    ("i wanna die", "i want to die"), ("hes gonna kill me", "he is going to kill me"),
    ("u r scaring me", "you are scaring me"), ("ur dad", "your dad"),
    ("pls help", "please help"), ("plz", "please"), ("coz he", "because he"),
    ("cos he", "because he"), ("tmrw", "tomorrow"), ("2nite", "tonight"), ("b4", "before"),
    ("gotta go", "got to go"),
])
def test_sms_spellings_read_as_canonical_words(typed: str, canonical_words: str) -> None:
    assert words(typed) == canonical_words.split()


def test_an_extra_reading_keeps_the_number_too() -> None:
    two = canonical(tokens("2"), crisis.matcher("en_GB").lexicon.sms)[0]
    assert set(two.forms) >= {"2", "to"}


def test_polish_sms_table_is_its_own() -> None:
    assert words("niemoge oddychac", "pl") == ["nie", "moge", "oddychac"]
    assert words("niemoge oddychac", "en_GB") == ["niemoge", "oddychac"]


def test_laughing_emoji_is_read_as_a_word() -> None:
    assert [t.raw for t in tokens("ok 😂")] == ["ok", "haha"]


# --- the pattern language ----------------------------------------------------------------

def test_one_typo_for_words_of_five_letters_or_more() -> None:
    m = small("rule weapon.knife knife\nrule intruder.door door\n")
    for typo in ("knfie", "knif", "kniife", "knifr", "nkife"):  # swap, delete, insert, substitute
        assert fires(m, f"he has a {typo}") == ["weapon.knife"], typo
    assert fires(m, "he has a kinfr") == []  # two edits
    assert fires(m, "at the door") == ["intruder.door"]
    assert fires(m, "at the dorr") == []  # four letters: exact only


def test_the_five_letter_boundary() -> None:
    m = small("rule help.a panic\nrule help.b scare\nrule help.c fear\n")
    assert fires(m, "panik") == ["help.a"]  # 5 letters
    assert fires(m, "scaer") == ["help.b"]
    assert fires(m, "faer") == []  # 4 letters


def test_a_letter_added_at_the_end_is_another_ending_not_a_typo() -> None:
    m = small("rule child.taken zabrala\n")
    assert fires(m, "zabrala") == ["child.taken"]
    assert fires(m, "zabrla") == ["child.taken"]  # a letter missing: a typo
    assert fires(m, "zabralam") == []  # "I took", not "she took"
    assert fires(m, "zabralaa") == ["child.taken"]  # the last letter typed twice


def test_an_exact_word_takes_no_typo() -> None:
    m = small("rule overdose.pills =pills\n")
    assert fires(m, "pills") == ["overdose.pills"]
    assert fires(m, "bills") == []


def test_a_known_real_word_is_never_read_as_a_typo() -> None:
    m = small("known class\nrule weapon.glass glass\n")
    assert fires(m, "a glas") == ["weapon.glass"]
    assert fires(m, "a class") == []


def test_stems_match_inflected_forms() -> None:
    m = small("rule weapon.noz noz*|!nozn*\nrule threat.kill kill* me\n")
    for form in ("nóż", "noża", "nożem", "noże", "nozyk"):
        assert fires(m, f"ma {form}") == ["weapon.noz"], form
    assert fires(m, "pilka nozna") == []  # the exclusion
    assert fires(m, "killing me") == ["threat.kill"]
    assert fires(m, "killed me") == ["threat.kill"]


def test_gaps_are_bounded() -> None:
    m = small("rule intruder.outside he ..2 outside\nrule intruder.near he ... door\n")
    assert fires(m, "he outside") == ["intruder.outside"]
    assert fires(m, "he is now outside") == ["intruder.outside"]
    assert fires(m, "he is right now outside") == []  # three words between
    assert fires(m, "he is right at the door") == []  # `...` is three
    assert fires(m, "he is at the door") == ["intruder.near"]


def test_alternatives_sets_phrases_and_optional_slots() -> None:
    m = small("set subj = he|she|my_ex\nrule intruder.x @subj is? outside|at_the_door\n")
    assert fires(m, "my ex at the door") == ["intruder.x"]
    assert fires(m, "she is outside") == ["intruder.x"]
    assert fires(m, "my ex is at the window") == []


def test_anchors_and_end_alternatives() -> None:
    m = small("rule help.whole ^ help me $\nrule help.end need help now|$\n")
    assert fires(m, "help me") == ["help.whole"]
    assert fires(m, "please help me") == []
    assert fires(m, "i need help") == ["help.end"]
    assert fires(m, "i need help now") == ["help.end"]
    assert fires(m, "i need help with the form") == []


def test_a_negative_check_looks_at_the_word_before() -> None:
    m = small("rule help.safe !not|never feel_safe\n")
    assert fires(m, "i feel safe") == ["help.safe"]
    assert fires(m, "i do not feel safe") == []


def test_number_and_year_classes() -> None:
    m = small("rule overdose.n took #num pills\nrule threat.y hit ..3 #year\n")
    assert fires(m, "took 30 pills") == ["overdose.n"]
    assert fires(m, "took thirty pills") == []
    assert fires(m, "he hit me in 2019") == ["threat.y"]
    assert fires(m, "he hit me in 3019") == []


# --- vetoes --------------------------------------------------------------------------------

def test_a_veto_hides_only_the_words_it_covers() -> None:
    m = small("veto form form ..3 killing me\nrule threat.kill killing me\n"
              "rule weapon.knife knife\n")
    assert fires(m, "this form is killing me") == []
    assert fires(m, "he is killing me") == ["threat.kill"]
    assert fires(m, "this form is killing me and he has a knife") == ["weapon.knife"]


def test_a_veto_is_cancelled_by_an_unless_word_between_its_slots() -> None:
    m = small("veto past hit ..6 last_year unless now|tonight\nrule threat.hit hit me\n")
    assert fires(m, "he hit me last year") == []
    assert fires(m, "he hit me and tonight he is back and it is like last year") == [
        "threat.hit"]


@pytest.mark.parametrize("text", [
    "this form is killing me", "I could murder a coffee", "I'm dying to know what he said",
    "we need a knife and fork for the meeting lunch", "I'm dead tired after work",
    "my phone is dead, call me tomorrow", "he broke in last year",
    "the assault was in 2021", "can you help me understand the process",
    "i need help with the form", "i'm not suicidal, just fed up", "my knees are killing me",
    "moja mama mnie zabije jak się spóźnię haha", "umieram z nudów", "czekanie mnie wykańcza",
    "potrzebuję pomocy w napisaniu listu", "gramy w piłkę nożną w sobotę",
    "pobił mnie 5 lat temu, teraz jest lepiej",
])
def test_idioms_and_past_events_told_calmly_are_ordinary(text: str) -> None:
    assert detect(text) is None, detect(text)


@pytest.mark.parametrize("text", [
    "this form is killing me and my ex is outside with a knife",
    "he broke in last year and now hes outside again",
    "i could murder a coffee but he's got a knife",
    "pobil mnie 5 lat temu a teraz stoi pod oknem",
])
def test_a_veto_never_hides_a_crisis_in_the_same_message(text: str) -> None:
    assert detect(text) is not None


def test_a_clause_veto_does_not_cross_punctuation() -> None:
    m = small("veto past , #any ..4 last_year\nrule intruder.out he ..1 outside\n")
    assert fires(m, "he is outside, he hit me last year") == ["intruder.out"]
    assert fires(m, "he is outside he hit me last year") == []  # no comma: one clause


def test_a_context_slot_reads_words_a_veto_hides() -> None:
    text = "veto past cut ..2 as_a_teen\nrule suicide.again {}cut ..6 started_again\n"
    assert fires(small(text.format("")), "i cut as a teen and i have started again") == []
    assert fires(small(text.format("~")), "i cut as a teen and i have started again") == [
        "suicide.again"]


def test_punctuation_is_remembered_before_a_word() -> None:
    assert [t.pause for t in tokens("help, he is here. now!")] == [False, True, False, False,
                                                                     True]


def test_a_word_any_takes_is_still_checked_for_unless() -> None:
    anything = small("veto v #any ..1 story unless now\nrule help.x now\n")
    named = small("veto v now ..1 story unless now\nrule help.x now\n")
    assert fires(anything, "now a story") == ["help.x"]  # `#any` took "now": still checked
    assert fires(named, "now a story") == []  # a named slot's own words are not


# --- the shipped lexicons ------------------------------------------------------------------

EXAMPLES = {
    "en_GB": {
        "suicide": "i cant keep going, tonight is the night",
        "overdose": "i swallowed a bottle of paracetamol",
        "threat": "hes gonna kill me when he gets in",
        "weapon": "hes got a hammer and hes shouting",
        "intruder": "my ex is stood at my window",
        "sexual_assault": "he raped me an hour ago",
        "child": "my 12 year old hasnt come home and isnt answering",
        "help": "please help me",
    },
    "pl": {
        "suicide": "nie chce juz zyc",
        "overdose": "polknelam wszystkie tabletki",
        "threat": "on mnie bije",
        "weapon": "przystawił mi nóż do gardła",
        "intruder": "on stoi pod oknem i krzyczy",
        "sexual_assault": "zgwałcił mnie przed chwilą",
        "child": "byly zabral dzieci i nie chce oddac",
        "help": "pomocy",
    },
}


@pytest.mark.parametrize(("locale", "category"),
                         [(loc, cat) for loc in EXAMPLES for cat in CATEGORIES])
def test_every_category_is_recognised_in_both_locales(locale: str, category: str) -> None:
    found = detect_all(EXAMPLES[locale][category])
    assert any(c.category == category and c.locale == locale for c in found), found


@pytest.mark.parametrize("locale", LOCALES)
def test_every_shipped_locale_has_a_lexicon_with_every_category(locale: str) -> None:
    path = crisis.lexicon_path(locale)
    assert path.exists(), f"shipped locale {locale} has no crisis lexicon at {path}"
    lexicon = load(path)
    assert {r.category for r in lexicon.rules} == set(CATEGORIES)


def test_a_shipped_locale_without_a_lexicon_is_an_error(monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    monkeypatch.setattr(crisis, "LEXICONS", tmp_path)
    crisis.matchers.cache_clear()
    crisis.detect.cache_clear()
    try:
        with pytest.raises(LexiconError, match="no crisis lexicon for shipped locale"):
            detect("help")
    finally:
        monkeypatch.undo()
        crisis.matchers.cache_clear()
        crisis.detect.cache_clear()


def test_the_wheel_ships_the_lexicon_files() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["bot"]
    from bot.crisis.model import MODEL

    for path in [*crisis.LEXICONS.glob("*.txt"), MODEL]:
        inside = path.relative_to(ROOT / "bot").as_posix()
        assert any(fnmatch.fnmatch(inside, g) for g in globs), inside


def test_every_locale_is_checked_whatever_the_person_chose() -> None:
    polish, english = detect("on stoi pod oknem"), detect("he is outside my window")
    assert polish is not None and polish.locale == "pl"
    assert english is not None and english.locale == "en_GB"


def test_the_match_names_the_original_words_rule_and_locale() -> None:
    found = detect("Please... my EX is stood at my WINDOW!!")
    assert found is not None and found.rule.startswith("intruder.")
    assert found == Crisis("intruder", "en_GB", "EX is stood at my WINDOW", found.rule)


def test_detect_all_puts_the_most_urgent_category_first() -> None:
    found = detect_all("help me, i took 40 pills")
    assert [c.category for c in found][:1] == ["overdose"]
    assert "help" in {c.category for c in found}
    assert detect("help me, i took 40 pills") == found[0]


def test_an_empty_or_wordless_message_is_no_crisis() -> None:
    assert detect("") is None and detect("?!  ...") is None and detect_all("👍") == ()


def test_no_file_is_read_after_the_lexicons_are_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    detect("warm up")

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("detect read a file")

    monkeypatch.setattr(builtins, "open", refuse)
    monkeypatch.setattr(Path, "read_text", refuse)
    assert detect("he has a knife and hes coming in") is not None
    assert detect("hello, when is my meeting?") is None


# --- the file format -----------------------------------------------------------------------

@pytest.mark.parametrize(("line", "complaint"), [
    ("rule nonsense.x help", "CATEGORY one of"),
    ("rule help help", "CATEGORY one of"),
    ("rule help.X help", "expected a name"),
    ("rule help.a", "expected a name"),
    ("frobnicate x", "unknown line kind"),
    ("rule help.a @nowhere", "unknown set"),
    ("rule help.a help ..20 me", "gap"),
    ("rule help.a ... help", "a gap must stand between"),
    ("rule help.a help?", "not optional"),
    ("rule help.a he|lp|", "empty alternative"),
    ("rule help.a h-e-l-p", "is not a word"),
    ("sms im", "expected `sms TYPED WORDS = CANONICAL WORDS`"),
    ("sms two words ~ x", "single words"),
    ("set Bad = x", "expected `set NAME = a|b|c`"),
    ("set more += x", "is not defined yet"),
    ("rule help.a help unless now", "only ends a veto"),
    ("rule help.a , help", "for vetoes only"),
])
def test_a_malformed_line_names_file_and_line(tmp_path: Path, line: str, complaint: str) -> None:
    path = tmp_path / "xx.txt"
    path.write_text(f"# a lexicon\nrule help.ok help me\n{line}\n", encoding="utf-8")
    with pytest.raises(LexiconError) as raised:
        load(path)
    assert str(raised.value).startswith(f"{path}:3: ")
    assert complaint in str(raised.value)


def test_a_rule_defined_twice_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "xx.txt"
    path.write_text("rule help.a help\nrule help.a help me\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"xx.txt:2: 'help.a' is defined twice"):
        load(path)


def test_a_file_without_rules_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "xx.txt"
    path.write_text("# nothing\nsms im = i am\n", encoding="utf-8")
    with pytest.raises(LexiconError, match="no rules"):
        load(path)


def test_comments_sets_and_extensions_parse() -> None:
    m = small("# comment\nset a = x|y   # trailing comment\nset a += z\nrule help.a @a #num\n")
    assert fires(m, "z 5") == ["help.a"]
