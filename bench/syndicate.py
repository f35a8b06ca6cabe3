"""A syndication stream generator: real article texts and the ways they get republished.

From each base text it makes an original plus some of: verbatim mirrors, mirrors wrapped
in spam boilerplate, word-spun copies (30-50% of words replaced, numbers, names and order
kept), excerpts (first 2-4 sentences + "Read the original on X"), retitled copies. Other
bases are the distinct negatives (ECB+ bases include different articles about the same
event, the hard kind). Some copies carry wrong (earlier) dates; some carry a rel=canonical.

Two spinner variants exist so thresholds are not tuned to one generator's quirks: variant
"a" (dev) and variant "b" (held out: different synonym table half, multi-word
replacements, different boilerplate and credit wording). Report the held-out one.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from dedup.fingerprints import split_sentences

# word -> replacements; a spinner's thesaurus, deliberately crude like the real ones.
_SYN = """
said:stated,mentioned,noted,explained|says:states,mentions,notes|told:instructed,informed|about:roughly,round,approximately
against:in opposition to,versus|using:utilizing,employing|large:massive,huge,giant|largest:biggest,greatest
known:identified,recognized|company:firm,corporation,enterprise|companies:firms,corporations|government:administration,authorities
country:nation,state|people:individuals,folks,persons|more:extra,additional|than:in comparison with|after:following,subsequent to
before:previous to,prior to|new:recent,contemporary|first:preliminary,earliest|last:final,previous|year:yr,12 months|years:years,yrs
week:week,seven days|month:month,thirty days|city:metropolis,town|home:house,residence|homes:homes,residences|help:assist,support
show:present,display|shows:exhibits,displays|make:create,produce|made:created,produced|take:take,seize|took:seized,grabbed
give:present,provide|gave:offered,supplied|find:discover,locate|found:discovered,situated|call:name,name|called:referred to as,named
work:work,labor|working:working,laboring|police:police,legislation enforcement|attack:assault,strike|attacks:assaults,strikes
killed:killed,slain|death:demise,loss of life|dead:lifeless,useless|injured:injured,wounded|hospital:hospital,medical facility
official:official,authorized|officials:officers,authorities|report:report,document|reported:reported,documented|reports:reviews,reports
leader:chief,head|leaders:leaders,heads|public:public,communal|group:group,collective|groups:teams,teams|team:group,crew
market:market,marketplace|price:value,worth|prices:costs,prices|money:cash,funds|pay:pay,compensate|paid:paid,remunerated
build:construct,build|built:constructed,built|plan:plan,scheme|plans:plans,schemes|deal:deal,settlement|agreement:settlement,accord
law:legislation,regulation|laws:legal guidelines,rules|court:courtroom,tribunal|judge:decide,choose|case:case,occasion
start:begin,start|started:began,commenced|end:finish,finish|ended:ended,concluded|early:early,premature|late:late,belated
big:large,huge|small:small,little|high:excessive,high|low:low,decrease|long:lengthy,lengthy|short:brief,quick|good:good,nice
bad:dangerous,unhealthy|important:essential,vital|major:main,primary|key:key,essential|main:essential,important|top:prime,high
world:world,globe|national:nationwide,nationwide|international:worldwide,international|local:native,local|state:state,condition
model:mannequin,model|models:fashions,fashions|system:system,scheme|systems:methods,techniques|data:information,knowledge
campaign:marketing campaign,campaign|effort:effort,endeavor|efforts:efforts,endeavors|issue:problem,situation|issues:points,issues
question:query,question|questions:questions,queries|answer:reply,reply|decision:choice,resolution|change:change,alteration
increase:enhance,improve|rise:rise,increase|fall:fall,drop|fell:fell,dropped|grow:develop,grow|growth:development,progress
support:assist,help|supporters:supporters,backers|fans:followers,fans|star:star,celebrity|actor:actor,performer|film:movie,film
game:recreation,sport|season:season,period|player:participant,player|players:gamers,players|win:win,triumph|won:received,gained
lost:misplaced,lost|lose:lose,misplace|play:play,perform|played:performed,played|match:match,contest|club:membership,club
car:automotive,car|road:highway,road|area:space,region|region:area,region|building:constructing,building|buildings:buildings,structures
water:water,liquid|fire:hearth,fire|power:energy,power|energy:power,vitality|security:safety,security|safety:security,safety
war:conflict,warfare|military:navy,army|forces:forces,troops|soldiers:troopers,soldiers|president:president,head of state
minister:minister,secretary|election:election,vote|vote:vote,poll|party:social gathering,party|members:members,participants
family:household,family|children:youngsters,children|child:baby,kid|woman:lady,woman|women:ladies,women|man:man,guy|men:males,men
life:life,existence|health:well being,health|school:faculty,school|schools:faculties,schools|students:college students,students
began:started,commenced|became:grew to become,became|become:change into,become|believe:imagine,believe|think:suppose,think
expected:anticipated,expected|likely:probably,likely|recent:current,latest|current:present,current|former:former,previous
according:in accordance,according|including:together with,including|between:between,amongst|during:throughout,during
however:nonetheless,however|also:additionally,also|still:nonetheless,still|only:solely,only|many:many,quite a few|several:a number of,several
nearly:practically,almost|almost:virtually,nearly|around:round,around|across:throughout,across|because:as a result of,because
""".strip()

SYNONYMS: dict[str, list[str]] = {}
for chunk in _SYN.replace("\n", "|").split("|"):
    if ":" in chunk:
        word, alts = chunk.split(":", 1)
        SYNONYMS[word.strip()] = [a.strip() for a in alts.split(",") if a.strip()]

FILLER = ("element factor matter aspect thing facet point piece item component particular specific certain "
          "explicit sure precise varied numerous assorted broad wide vast").split()

BOILER = {
    "a": (["📰 Exclusive News & Analysis: Stay ahead with the latest developments in markets and technology.",
           "📈 Market Update: Real-time price movements, technical analysis, and trading signals.",
           "Pro Tip: Bookmark our site and never miss a headline."],
          ["Daily Briefing Newsletter", "Start every day with the top news stories right now, plus podcasts and more.",
           "Disclaimer: This content is for information only and is not financial advice."]),
    "b": (["BREAKING | Trending now on our network of sites", "Sponsored: Earn up to 12% APY on your savings today.",
           "Join 50,000 readers who get our morning brief."],
          ["Related posts", "Share this: Facebook Twitter WhatsApp Telegram",
           "Copyright notice: all trademarks belong to their owners. Comments are closed."]),
}
CREDIT = {"a": "Read the original on {site}", "b": "This story originally appeared on {site}. View original on {site}."}

_WORD = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class Item:
    id: str
    url: str
    title: str
    text: str
    published: str
    source: str
    html: str
    base: str  # gold copy group: id of the base text
    kind: str  # original | mirror | wrapped | spun | excerpt | retitled | negative


def spin(text: str, rng: random.Random, variant: str, rate: float) -> str:
    """Replace about `rate` of the words: lower-case content words only (names, numbers stay)."""
    table = SYNONYMS if variant == "a" else {k: v[::-1] for k, v in SYNONYMS.items()}

    def swap(match: re.Match) -> str:
        word = match.group(0)
        if word[0].isupper() or rng.random() >= rate:
            return word
        low = word.lower()
        if low in table:
            return rng.choice(table[low])
        if len(low) > 3 and low not in {"that", "with", "this", "from", "have", "were", "been", "their", "which"}:
            return rng.choice(FILLER) if variant == "a" else low + ("ly" if rng.random() < 0.5 else "ness")
        return word

    return _WORD.sub(swap, text)


def excerpt(text: str, rng: random.Random, site: str, variant: str) -> str:
    sentences = split_sentences(text)
    n = rng.randint(2, 4)
    return " ".join(sentences[:n]) + "\n" + CREDIT[variant].format(site=site)


def make_stream(bases: list[dict], seed: int, variant: str, start: datetime) -> tuple[list[Item], dict[str, int]]:
    """Items in arbitrary order and the source priorities (originals' outlets are not always
    higher: a third share priority 1 with the copiers)."""
    rng = random.Random(seed)
    items: list[Item] = []
    priority: dict[str, int] = {}
    for n, base in enumerate(bases):
        t0 = start + timedelta(hours=n * 3 + rng.random())
        site = f"outlet{n}"
        url = f"https://www.{site}.com/news/{n}"
        src = f"src-{site}"
        priority[src] = 2 if rng.random() < 0.67 else 1
        items.append(Item(f"{n}-orig", url, base["title"], base["text"], t0.isoformat(), src, "", base["id"], "original"))
        if rng.random() < 0.25:
            continue  # a base with no copies: a distinct negative for everything else
        kinds = rng.sample(["mirror", "wrapped", "spun", "spun", "excerpt", "retitled"], k=rng.randint(1, 4))
        for j, kind in enumerate(kinds):
            cid = f"{n}-{kind}-{j}"
            csrc = f"src-copier{rng.randint(0, 40)}"
            priority.setdefault(csrc, rng.choice([0, 1, 1]))
            delay = timedelta(minutes=rng.randint(5, 60 * 48))
            wrong_date = kind in ("mirror", "wrapped", "retitled") and rng.random() < 0.2
            when = t0 - timedelta(minutes=rng.randint(30, 600)) if wrong_date else t0 + delay
            title, text, html = base["title"], base["text"], ""
            if kind == "wrapped":
                before, after = BOILER[variant]
                text = "\n".join(before) + "\n" + text + "\n" + "\n".join(after)
            elif kind == "spun":
                rate = rng.uniform(0.6, 0.95)  # of lower-case words → 30-50% of all words
                title, text = spin(title, rng, variant, rate), spin(text, rng, variant, rate)
            elif kind == "excerpt":
                text = excerpt(text, rng, site.capitalize(), variant)
                title = title if rng.random() < 0.5 else "Summary: " + title
            elif kind == "retitled":
                title = rng.choice(["What we know: ", "Update: ", "Report - ", ""]) + " ".join(title.split()[::-1][:8])
            if wrong_date and rng.random() < 0.5:
                html = f'<html><head><link rel="canonical" href="{url}"></head></html>'
            items.append(Item(cid, f"https://copier{rng.randint(0, 40)}.net/{cid}", title, text, when.isoformat(),
                              csrc, html, base["id"], kind))
    return items, priority


def spun_fraction(original: str, spun: str) -> float:
    """Share of the original's words that the spinner changed (for reporting)."""
    a, b = _WORD.findall(original), _WORD.findall(spun)
    from rapidfuzz.distance import LCSseq

    return 1 - LCSseq.similarity(a, b) / max(1, len(a))
