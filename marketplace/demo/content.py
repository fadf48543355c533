"""What the demo sector holds: its people, organisations, works, calls and exhibitions (fixed data; the seed turns
it into accounts, uploads, mints and sales through the product's services)."""

from __future__ import annotations

from dataclasses import dataclass

from marketplace.core.config import DISCIPLINES

DEMO_PASSWORD = "demo-password"
RNG_SEED = 2026  # every random choice of the demo comes from random.Random(RNG_SEED): the same sector each time


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    role: str  # admin, creator or buyer
    disciplines: tuple[str, ...] = ()
    location: str = ""
    skills: tuple[str, ...] = ()
    bio: str = ""


# the four accounts the README and the tests sign in with (kept as they were)
ADMIN = Person("admin@demo.lu", "Platform Admin", "admin")
ANNA = Person("anna@demo.lu", "Anna Schmit Studio", "creator", ("design", "photography"), "Esch-sur-Alzette",
              ("typography", "poster design", "printing"),
              "Graphic design and photography studio in Esch.\nPosters, identities, prints.")
LUC = Person("luc@demo.lu", "Luc Weber", "creator", ("music", "film"), "Luxembourg City",
             ("sound design", "composition", "foley"), "Composer and sound designer.")
BUYER = Person("buyer@demo.lu", "Marie Buyer", "buyer")

CREATORS = (
    ANNA, LUC,
    Person("claire.hoffmann@demo.lu", "Claire Hoffmann", "creator", ("design",), "Luxembourg City",
           ("branding", "editorial design"), "Identities for cultural institutions."),
    Person("jeff.muller@demo.lu", "Jeff Muller", "creator", ("design", "digital-art"), "Differdange",
           ("motion graphics", "generative design"), "Generative posters and moving type."),
    Person("sophie.kieffer@demo.lu", "Sophie Kieffer", "creator", ("music",), "Ettelbruck",
           ("piano", "film scoring"), "Pianist and composer for film and theatre."),
    Person("tom.wagner@demo.lu", "Tom Wagner", "creator", ("music", "games"), "Esch-sur-Alzette",
           ("chiptune", "audio middleware"), "Music and sound for independent games."),
    Person("lena.thill@demo.lu", "Lena Thill", "creator", ("photography",), "Vianden",
           ("landscape", "long exposure"), "The Oesling's valleys at dawn."),
    Person("marc.reuter@demo.lu", "Marc Reuter", "creator", ("photography", "architecture"), "Kirchberg",
           ("architectural photography", "drone"), "Buildings of the Kirchberg plateau and the Minett."),
    Person("ines.ferreira@demo.lu", "Inês Ferreira", "creator", ("film",), "Luxembourg City",
           ("directing", "documentary"), "Documentary director; stories of the Portuguese community."),
    Person("paul.schroeder@demo.lu", "Paul Schroeder", "creator", ("film", "digital-art"), "Dudelange",
           ("animation", "compositing"), "Animated shorts and title sequences."),
    Person("nina.becker@demo.lu", "Nina Becker", "creator", ("games",), "Belval",
           ("level design", "unity"), "Puzzle games made in Belval."),
    Person("david.klein@demo.lu", "David Klein", "creator", ("games", "design"), "Esch-sur-Alzette",
           ("pixel art", "game design"), "Pixel art and board-game prototypes."),
    Person("julie.weis@demo.lu", "Julie Weis", "creator", ("architecture",), "Luxembourg City",
           ("parametric design", "timber"), "Timber pavilions and public space."),
    Person("ben.hansen@demo.lu", "Ben Hansen", "creator", ("architecture", "design"), "Mersch",
           ("urbanism", "3d modelling"), "Urban studies and models of the Alzette valley."),
    Person("carla.rossi@demo.lu", "Carla Rossi", "creator", ("publishing",), "Luxembourg City",
           ("illustration", "children's books"), "Author and illustrator of picture books."),
    Person("yves.lentz@demo.lu", "Yves Lentz", "creator", ("publishing", "photography"), "Clervaux",
           ("photobooks", "essays"), "Photobooks and essays on the north."),
    Person("emma.dupont@demo.lu", "Emma Dupont", "creator", ("fashion",), "Luxembourg City",
           ("textile design", "pattern making"), "Textiles printed with Luxembourg's landscapes."),
    Person("sarah.meyer@demo.lu", "Sarah Meyer", "creator", ("fashion", "design"), "Esch-sur-Alzette",
           ("upcycling", "lookbooks"), "Upcycled fashion from the steel towns."),
    Person("max.schmitz@demo.lu", "Max Schmitz", "creator", ("digital-art",), "Differdange",
           ("shaders", "creative coding"), "Creative coding: light, noise and code."),
    Person("lea.frisch@demo.lu", "Léa Frisch", "creator", ("digital-art", "music"), "Remich",
           ("audiovisual", "installation"), "Audiovisual installations along the Moselle."),
    Person("patrick.braun@demo.lu", "Patrick Braun", "creator", ("music",), "Wiltz",
           ("brass", "arranging"), "Arranger for brass bands and choirs."),
    Person("anne.kremer@demo.lu", "Anne Kremer", "creator", ("design", "publishing"), "Bettembourg",
           ("type design", "book design"), "Typefaces and the books set in them."),
    Person("luca.bianchi@demo.lu", "Luca Bianchi", "creator", ("film", "music"), "Luxembourg City",
           ("editing", "colour grading"), "Editor and colourist."),
    Person("mia.nilles@demo.lu", "Mia Nilles", "creator", ("photography", "fashion"), "Luxembourg City",
           ("portrait", "fashion photography"), "Portraits and fashion editorials."),
    Person("felix.hurt@demo.lu", "Felix Hurt", "creator", ("games", "digital-art"), "Belval",
           ("3d modelling", "vr"), "Worlds for VR and the game pieces in them."),
    Person("chantal.gales@demo.lu", "Chantal Gales", "creator", ("architecture", "photography"), "Echternach",
           ("heritage", "survey"), "Surveys of heritage buildings."),
    Person("raoul.zeimet@demo.lu", "Raoul Zeimet", "creator", ("publishing", "design"), "Diekirch",
           ("comics", "lettering"), "Comics about the Sûre and its people."),
    Person("nora.steichen@demo.lu", "Nora Steichen", "creator", ("fashion", "digital-art"), "Luxembourg City",
           ("3d fashion", "textile"), "Digital garments and printed silks."),
    Person("gilles.pauly@demo.lu", "Gilles Pauly", "creator", ("music", "digital-art"), "Esch-sur-Alzette",
           ("electronic music", "modular synthesis"), "Electronic music from the Rockhal's rehearsal rooms."),
    Person("isabel.sousa@demo.lu", "Isabel Sousa", "creator", ("design", "fashion"), "Hesperange",
           ("jewellery", "product design"), "Jewellery and small objects."),
    Person("kevin.back@demo.lu", "Kevin Back", "creator", ("film", "games"), "Dudelange",
           ("cinematics", "storyboards"), "Storyboards and cinematics for games."),
    Person("laura.ries@demo.lu", "Laura Ries", "creator", ("architecture", "publishing"), "Luxembourg City",
           ("architecture writing", "drawing"), "Drawings and writing on the city's architecture."),
)

BUYERS = (
    BUYER,
    Person("jean.collector@demo.lu", "Jean Collector", "buyer"),
    Person("gallery.moselle@demo.lu", "Galerie Moselle", "buyer"),
    Person("paula.fan@demo.lu", "Paula Fan", "buyer"),
    Person("bank.art@demo.lu", "Kirchberg Bank Art Collection", "buyer"),
)

ACCOUNTS_PRINTED = (ADMIN, ANNA, LUC, BUYER)  # what `make run` prints (their password: DEMO_PASSWORD)

assert {d for p in CREATORS for d in p.disciplines} == set(DISCIPLINES), "every discipline has creators"


@dataclass(frozen=True)
class Org:
    name: str
    kind: str
    city: str
    description: str
    website: str
    members: tuple[str, ...]  # e-mails; the first is the organisation's admin


ORGANISATIONS = (
    Org("Luxembourg Creative Industries Cluster", "cluster", "Luxembourg City",
        "The cluster of the country's creative industries: design, media, architecture and the arts.",
        "https://cluster.example.lu",
        ("claire.hoffmann@demo.lu", "anna@demo.lu", "julie.weis@demo.lu", "ines.ferreira@demo.lu",
         "nina.becker@demo.lu", "emma.dupont@demo.lu", "carla.rossi@demo.lu", "max.schmitz@demo.lu")),
    Org("Esch Creative Hub", "hub", "Esch-sur-Alzette",
        "Studios, workshops and a sound lab in a former steel hall.", "https://esch-hub.example.lu",
        ("tom.wagner@demo.lu", "anna@demo.lu", "jeff.muller@demo.lu", "david.klein@demo.lu", "sarah.meyer@demo.lu",
         "gilles.pauly@demo.lu")),
    Org("Belval Game Lab", "hub", "Belval", "A hub for game developers and VR makers.",
        "https://gamelab.example.lu",
        ("nina.becker@demo.lu", "felix.hurt@demo.lu", "kevin.back@demo.lu", "tom.wagner@demo.lu")),
    Org("Atelier Alzette", "studio", "Luxembourg City", "Architecture and spatial design studio.",
        "https://alzette.example.lu", ("julie.weis@demo.lu", "ben.hansen@demo.lu", "laura.ries@demo.lu")),
    Org("Studio Minett Sound", "studio", "Esch-sur-Alzette", "Recording, scoring and sound design.",
        "https://minett-sound.example.lu", ("luc@demo.lu", "sophie.kieffer@demo.lu", "patrick.braun@demo.lu")),
    Org("Pixel Moselle", "studio", "Remich", "Animation and motion studio by the river.",
        "https://pixel-moselle.example.lu", ("paul.schroeder@demo.lu", "lea.frisch@demo.lu", "luca.bianchi@demo.lu")),
    Org("School of Design Luxembourg", "school", "Luxembourg City",
        "Bachelor and master courses in graphic, product and fashion design.", "https://design-school.example.lu",
        ("anne.kremer@demo.lu", "isabel.sousa@demo.lu", "nora.steichen@demo.lu", "mia.nilles@demo.lu")),
    Org("Northern Film and Photo School", "school", "Clervaux", "Photography and documentary film courses.",
        "https://nfps.example.lu", ("yves.lentz@demo.lu", "lena.thill@demo.lu", "chantal.gales@demo.lu")),
    Org("Sûre Comics Association", "association", "Diekirch", "Comic artists of the north.",
        "https://sure-comics.example.lu", ("raoul.zeimet@demo.lu", "carla.rossi@demo.lu")),
    Org("Kirchberg Media Company", "company", "Kirchberg", "Corporate films, photography and publishing.",
        "https://kirchberg-media.example.lu", ("marc.reuter@demo.lu", "luca.bianchi@demo.lu")),
)

# each discipline's kinds of media, and the words its titles are made of
MEDIA_OF = {
    "design": ("poster", "poster", "document"),
    "music": ("audio",),
    "photography": ("photo",),
    "film": ("film", "film", "document"),  # stills, and a screenplay now and then
    "games": ("model", "poster"),
    "architecture": ("model", "photo", "document"),
    "publishing": ("document", "poster"),  # the book, or its cover's illustration
    "fashion": ("photo", "poster"),
    "digital-art": ("poster", "model"),
}
TITLE_WORDS = {
    "design": (("Poster", "Identity", "Type Specimen", "Signage", "Pattern"),
               ("for the Rockhal", "of the Grund", "Blue Lion", "Moselle Lines", "Minett Steel", "Schueberfouer")),
    "music": (("Theme", "Suite", "Loop Pack", "Ballad", "Overture"),
              ("of the Sûre", "for Brass", "in Belval", "Kirchberg Nights", "Vianden Castle", "Moselle Morning")),
    "photography": (("Dawn", "Fog", "Light", "Winter", "Reflections"),
                    ("over Vianden", "in the Müllerthal", "at Kirchberg", "on the Moselle", "in Esch", "of Clervaux")),
    "film": (("Trailer", "Short", "Title Sequence", "Storyboard", "Documentary Still"),
             ("Red Rocks", "The Last Furnace", "Petrusse", "Night Train", "Pfaffenthal Lift", "Two Borders")),
    "games": (("Game Piece", "Level Block", "Tile Set", "Character Token", "Sprite Sheet"),
              ("Minett Quest", "Castle Run", "River Raid", "Steel Valley", "Ardennes Trail", "Belval Blocks")),
    "architecture": (("Pavilion", "Section", "Model", "Plan", "Facade Study"),
                     ("Timber", "Kirchberg Tower", "Alzette Bridge", "Belval Blast Furnace", "Grund Housing",
                      "Echternach Abbey")),
    "publishing": (("Picture Book", "Essay", "Zine", "Comic", "Poem Cycle"),
                   ("The Wolf of Mullerthal", "Melusina", "Letters from Wiltz", "Red Earth", "The Sûre",
                    "Little Duchy")),
    "fashion": (("Lookbook", "Print", "Silk Scarf", "Collection", "Pattern"),
                ("Steel & Lace", "Moselle Vines", "Blue Lion", "Ardennes Wool", "Upcycled Denim", "City Lights")),
    "digital-art": (("Generative Piece", "Light Study", "Shader", "Noise Field", "Sculpture"),
                    ("No. 7", "Moselle Flow", "Slate", "Red Earth", "Aurora over Remich", "Grid")),
}
LICENCE_ROTATION = ("CC-BY-4.0", "personal-use", "commercial-use", "CC-BY-NC-4.0", "CC-BY-SA-4.0", "CC0-1.0")

WORKS_PER_CREATOR = 3  # 32 creators: 96 works, a few kept as drafts
DRAFTS = 4  # the last works of some creators stay drafts (not minted): the studio shows both
CO_CREATED = 16  # works with two or three creators (shares accepted)
EDITIONS = ((5, 3), (10, 2), (8, 1), (20, 2))  # (edition size, editions sold) of four works
PRIMARY_SALES = 24  # unique works sold by card (plus the editions sold above)
RESALES = 5  # tokens listed by their buyers and bought by another buyer
ROYALTY_BPS = (500, 750, 1000, 250)

CALLS = (
    ("Music for the Schueberfouer 2027 campaign", ("Thirty seconds of music and a sound logo for the fair's TV and "
     "radio campaign."), ("music", "film"), 450000, "anna@demo.lu"),
    ("Wayfinding for the Esch Creative Hub", "Signage, pictograms and a printed map for the hub's three floors.",
     ("design", "architecture"), 800000, "tom.wagner@demo.lu"),
    ("A picture book on the Moselle", ("A 32-page picture book for children on the river's villages, illustrated "
     "and written in Luxembourgish, French and German."), ("publishing", "design"), 600000, "claire.hoffmann@demo.lu"),
    ("A VR tour of the Belval blast furnaces", ("A short VR experience with 3D models of the furnaces and a narrated "
     "tour."), ("games", "architecture", "film"), 1500000, "nina.becker@demo.lu"),
)
# each call's teams: (author, [(member, share_bps, role)...], title, pitch); the first call's first team is awarded
PROPOSALS = (
    (("luc@demo.lu", (("luc@demo.lu", 6000, "composer"), ("sophie.kieffer@demo.lu", 4000, "pianist")),
      "Fair ground theme", "A waltz that turns into a brass march, and a three-note sound logo."),
     ("gilles.pauly@demo.lu", (("gilles.pauly@demo.lu", 5000, "producer"), ("patrick.braun@demo.lu", 5000,
                                                                          "arranger")),
      "Electro fanfare", "Brass samples over an electronic beat; a logo made from the fair's bell.")),
    (("julie.weis@demo.lu", (("julie.weis@demo.lu", 4000, "architect"), ("anne.kremer@demo.lu", 3500,
                                                                        "type designer"),
                             ("ben.hansen@demo.lu", 2500, "3D modelling")),
      "Steel hall lines", "Signs cut from the hall's own steel, a typeface drawn from its rivets."),),
    (("carla.rossi@demo.lu", (("carla.rossi@demo.lu", 7000, "author and illustrator"),
                              ("raoul.zeimet@demo.lu", 3000, "lettering")),
      "Melusina's river", "The river told by Melusina, village by village."),
     ("yves.lentz@demo.lu", (("yves.lentz@demo.lu", 10000, "author"),),
      "Photographs for children", "A photobook for children with short poems.")),
    (("felix.hurt@demo.lu", (("felix.hurt@demo.lu", 4000, "3D artist"), ("kevin.back@demo.lu", 3000, "director"),
                             ("chantal.gales@demo.lu", 3000, "heritage survey")),
      "Furnace A in VR", ("A survey-accurate model of furnace A, walked through with a former steelworker's "
      "voice.")),),
)

EXHIBITIONS = (
    # (slug, title, text, event kind, days from today it starts, days it lasts, place, works shown (disciplines))
    ("round-table-digital-design", "Round table: digital design in Luxembourg",
     "Designers of the cluster on identities, type and generative work, with the works they brought.",
     "round_table", -2, 10, "House of Startups, Luxembourg City", ("design", "digital-art")),
    ("open-studio-atelier-alzette", "Open studio: Atelier Alzette",
     "The architecture studio opens its workshop: models, plans and the timber pavilion.",
     "open_studio", -1, 5, "Atelier Alzette, Luxembourg City", ("architecture",)),
    ("minett-sound-festival", "Minett Sound Festival",
     "Music and sound made in the south, to listen to and to own.", "festival", 20, 3,
     "Rockhal, Esch-sur-Alzette", ("music", "film")),
    ("photo-fair-clervaux", "Clervaux photo fair",
     "Photographers and photobooks of the north.", "fair", -40, 4, "Clervaux castle", ("photography", "publishing")),
)
