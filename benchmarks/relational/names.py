"""Name pools for the synthetic worlds. Invented organisations; real city names (harmless,
and what people talk about); first names by gender for brother/sister/mother/father."""

from __future__ import annotations

import random

FEMALE = (
    "Ana Beatriz Carla Diana Elena Fatima Greta Hanna Irene Julia Klara Lucia Marta Nadia Olga "
    "Paula Rosa Sofia Tanya Vera Wanda Yara Zoe Alice Bianca Chloe Daria Emma Freya Gloria "
    "Helena Ingrid Jana Kira Leah Maya Nina Petra Rita Sara Tessa Una Vivian Willa Xenia Yvonne "
    "Zara Amber Celine Edith Fiona Hazel Iris Joanna Lena Mila Noor Ophelia Priya Ruth Selma"
).split()

MALE = (
    "Tomas Bruno Carlos David Emil Felix Gustav Hugo Ivan Jonas Karl Liam Marco Nils Oscar Pablo "
    "Rafael Simon Theo Victor Walter Yusuf Adam Boris Cedric Dario Elias Frank George Henrik "
    "Igor Jakob Kevin Leon Noah Otto Peter Quentin Ruben Stefan Tobias Ugo Vincent Wesley "
    "Xavier Yannick Zeno Anton Basil Conrad Dominik Erik Fabian Gregor Hector Isaac Julian Lukas "
    "Mateo"
).split()

SURNAMES = (
    "Duarte Reyes Novak Lindqvist Okafor Tanaka Moreau Kowalski Ferreira Brennan Castillo "
    "Haddad Ivanova Jansen Kaur Larsen Mendes Nakamura Oyelaran Petrov Quintero Rossi Schmidt "
    "Tavares Ueda Varga Whitfield Xu Yilmaz Zielinski Almeida Bauer Cardoso Dalton Eriksen "
    "Fontaine Galloway Horvat Ibarra Jovanovic Keller Lambert Mwangi Nieminen Ortega Pereira "
    "Quigley Romero Sandoval Thorne Urquhart Vasquez Wojcik Yamada Zamora Abbott Bianchi "
    "Carvalho Dimitrov Eklund Falk Gallagher Hoffmann Iqbal Jaramillo Kovac Lachance Marsh "
    "Navarro Olsen Pacheco Rahman Sorensen Toivonen Ulloa Voss Winter Yoon Zander Arroyo Brandt "
    "Costa Delgado Engel Fischer Gomez Hale Ito Jensen Klein Lopes Madsen Nowak Osei Pinto "
    "Ramos Santos Torres Uribe Valente Weber Young Zhou Acosta Berg Cruz Dunn Ellis Farah"
).split()

ORGANISATIONS = (
    "Globex",
    "Initech",
    "Umbrella Labs",
    "Vandelay Industries",
    "Hooli",
    "Soylent Foods",
    "Wonka Confections",
    "Stark Dynamics",
    "Tyrell Systems",
    "Cyberdyne Robotics",
    "Gringotts Bank",
    "Oceanic Airlines",
    "Massive Dynamic",
    "Pied Piper",
    "Aperture Science",
    "Black Mesa Research",
    "Nakatomi Trading",
    "Monarch Solutions",
    "Sirius Cybernetics",
    "Prestige Worldwide",
    "Dunder Mifflin",
    "Bluth Company",
    "Wayne Logistics",
    "Oscorp Chemicals",
    "Virtucon",
    "Gekko Partners",
    "Sterling Cooper",
    "Kruger Industrial",
    "Blue Sun Corporation",
    "Weyland Freight",
    "Duff Brewing",
    "Krusty Media",
    "Acme Tooling",
    "Rekall Travel",
    "Omni Consumer Products",
    "Zorg Manufacturing",
    "Bubba Gump Seafood",
    "Los Pollos Hermanos",
    "Paper Street Soap",
    "InGen Biotech",
    "Spacely Sprockets",
    "Cogswell Cogs",
    "Planet Express",
    "Mom Corp",
    "Gizmonic Institute",
    "Strickland Propane",
    "Compu-Global Hypermeganet",
    "Frobozz Magic",
    "Yoyodyne Propulsion",
    "Ghostwood Estates",
    "Big Kahuna Burger",
    "Wernham Hogg",
    "Genco Pura",
    "Landmark Tea",
    "Quantum Quills",
    "Northwind Traders",
    "Contoso Analytics",
    "Fabrikam Textiles",
    "Tailspin Toys",
    "Adventure Works",
    "Litware Software",
    "Proseware",
    "Lucerne Publishing",
    "Coho Vineyard",
    "Fourth Coffee",
    "Wingtip Games",
    "Alpine Ski House",
    "Margie Travel",
    "Trey Research",
    "Woodgrove Finance",
)

CITIES = (
    "Porto Lisbon Berlin Munich Hamburg Vienna Prague Warsaw Krakow Budapest Madrid Seville "
    "Valencia Barcelona Bilbao Paris Lyon Marseille Nantes Brussels Antwerp Amsterdam Rotterdam "
    "Utrecht Copenhagen Oslo Bergen Stockholm Gothenburg Helsinki Tallinn Riga Vilnius Dublin "
    "Cork Edinburgh Glasgow Manchester Leeds Bristol London Zurich Geneva Basel Milan Turin "
    "Bologna Florence Naples Rome Athens Thessaloniki Plovdiv Bucharest Zagreb Ljubljana Belgrade "
    "Istanbul Ankara Toronto Montreal Vancouver Boston Chicago Denver Seattle Austin Portland "
    "Nairobi Lagos Accra Cairo Tunis Casablanca Tokyo Osaka Kyoto Seoul Busan Taipei Singapore "
    "Melbourne Sydney Auckland Wellington Santiago Lima Bogota Quito"
).split()


# -- name styles ---------------------------------------------------------------------------------
NAME_STYLES = ("full", "first", "shared")
SHARED_FIRST_NAMES = 6  # per gender in the "shared" style: most first names recur
_SYLLABLES = "ka ri mo ta ne lu si va do re pa lo mi sa no ha ze ti go be fa ru ko de na".split()


def _made_up_surnames(rng: random.Random, n: int, taken: set[str]) -> set[str]:
    out: set[str] = set()
    while len(out) < n:
        name = "".join(rng.choice(_SYLLABLES) for _ in range(3)).capitalize()
        if name not in taken:
            out.add(name)
    return out


class Namer:
    """How a world names its people, so entity resolution meets more than one naming habit.

    - full:   "Ana Duarte"; one surname per family, first names unique within a family
              (the original worlds: the same seed gives the same world as before).
    - first:  "Ana"; people are known by a first name alone, unique across the world.
    - shared: "Ana Duarte" and "Ana Reyes", two families called Duarte: first names from a
              small pool and surnames shared between families; full names stay unique.
    """

    def __init__(self, rng: random.Random, style: str = "full") -> None:
        if style not in NAME_STYLES:
            raise ValueError(f"unknown name style {style!r}; choose from {NAME_STYLES}")
        self.rng = rng
        self.style = style
        self.single = style == "first"
        self._taken: set[tuple[str, str]] = set()  # (first, last) in use
        self._firsts: set[str] = set()  # first names in use (style "first")

    def surnames(self, n: int) -> list[str]:
        """One surname per family."""
        if self.style == "shared":
            pool = self.rng.sample(SURNAMES, max(2, (2 * n + 2) // 3))
            out = [pool[i % len(pool)] for i in range(n)]  # a surname names one or two families
            self.rng.shuffle(out)
            return out
        out = self.rng.sample(SURNAMES, min(n, len(SURNAMES)))
        extra = sorted(_made_up_surnames(self.rng, n - len(out), set(SURNAMES)))
        return out + extra  # big worlds: more families than the name pool has surnames

    def first(self, gender: str, last: str, family: set[str]) -> str:
        """A first name for a new member of the family `last` (`family`: names it uses)."""
        pool = FEMALE if gender == "f" else MALE
        if self.style == "full":
            name = self.rng.choice([n for n in pool if n not in family])
        else:
            taken = self._firsts if self.single else {f for f, s in self._taken if s == last}
            options = [n for n in pool if n not in family and n not in taken]
            if self.style == "shared":  # the small pool first; the rest only when it runs out
                options = [n for n in options if n in pool[:SHARED_FIRST_NAMES]] or options
            if not options:
                raise ValueError(f"too few {self.style!r} names for this world; use fewer people")
            name = self.rng.choice(options)
        self.take(name, last)
        return name

    def take(self, first: str, last: str) -> None:
        self._taken.add((first, last))
        self._firsts.add(first)

    def release(self, first: str, last: str) -> None:
        self._taken.discard((first, last))
        self._firsts.discard(first)
