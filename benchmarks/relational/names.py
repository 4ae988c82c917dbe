"""Name pools for the synthetic worlds. Invented organisations; real city names (harmless,
and what people talk about); first names by gender for brother/sister/mother/father."""

from __future__ import annotations

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
