"""Names an advice answer might use: weeds (by EPPO code) and herbicide actives, in en/fr/de.

This is data, curated by hand, so the name check can recognise a name the facts
do not state even when the organisation's labels and the species catalogue
(``data/species.json``) do not carry it. It is a floor, not a ceiling: the
catalogue and every label of the organisation are added at run time
(:mod:`app.advice.names`). Common names follow EPPO Global Database spellings
where one exists; German names use ß/umlauts (matching is accent-insensitive).
"""

from __future__ import annotations

# EPPO code → names in any language (scientific name first).
WEEDS: dict[str, tuple[str, ...]] = {
    "ALOMY": ("Alopecurus myosuroides", "black-grass", "blackgrass", "vulpin des champs", "vulpin",
              "Acker-Fuchsschwanz", "Ackerfuchsschwanz"),
    "AMAPA": ("Amaranthus palmeri", "Palmer amaranth", "Palmer pigweed", "amarante de Palmer",
              "Palmer-Amarant"),
    "AMATU": ("Amaranthus tuberculatus", "waterhemp", "common waterhemp", "tall waterhemp",
              "amarante tuberculée", "Wasserhanf"),
    "AMARE": ("Amaranthus retroflexus", "redroot pigweed", "amarante réfléchie", "Zurückgebogener Amarant"),
    "AVEFA": ("Avena fatua", "wild oat", "wild oats", "folle avoine", "folle-avoine", "Flughafer"),
    "AVESL": ("Avena sterilis", "winter wild oat", "avoine stérile"),
    "CIRAR": ("Cirsium arvense", "creeping thistle", "Canada thistle", "chardon des champs",
              "cirse des champs", "Acker-Kratzdistel", "Ackerkratzdistel", "Ackerdistel"),
    "GALAP": ("Galium aparine", "cleavers", "goosegrass", "gaillet gratteron", "Kletten-Labkraut",
              "Klettenlabkraut"),
    "STEME": ("Stellaria media", "common chickweed", "chickweed", "mouron des oiseaux",
              "stellaire intermédiaire", "Vogelmiere", "Vogel-Sternmiere"),
    "CHEAL": ("Chenopodium album", "common lambsquarters", "lambsquarters", "fat hen", "chénopode blanc",
              "Weißer Gänsefuß", "Gänsefuß"),
    "SETVI": ("Setaria viridis", "green foxtail", "sétaire verte", "Grüne Borstenhirse"),
    "SETFA": ("Setaria faberi", "giant foxtail", "sétaire géante", "sétaire de Faber",
              "Fabers Borstenhirse"),
    "SETPU": ("Setaria pumila", "yellow foxtail", "sétaire glauque", "Gelbe Borstenhirse"),
    "ECHCG": ("Echinochloa crus-galli", "barnyardgrass", "barnyard grass", "cockspur",
              "panic pied-de-coq", "échinochloa pied-de-coq", "Hühnerhirse", "Gemeine Hühnerhirse"),
    "PAPRH": ("Papaver rhoeas", "common poppy", "corn poppy", "coquelicot", "Klatschmohn"),
    "AMBEL": ("Ambrosia artemisiifolia", "common ragweed", "ragweed", "ambroisie à feuilles d'armoise",
              "ambroisie", "Beifußblättrige Ambrosie", "Ambrosie"),
    "POAAN": ("Poa annua", "annual meadow-grass", "annual bluegrass", "pâturin annuel",
              "Einjähriges Rispengras"),
    "LOLMU": ("Lolium multiflorum", "Italian ryegrass", "ray-grass d'Italie", "Welsches Weidelgras"),
    "LOLRI": ("Lolium rigidum", "rigid ryegrass", "ray-grass rigide", "Steifes Weidelgras"),
    "BROST": ("Bromus sterilis", "sterile brome", "barren brome", "brome stérile", "Taube Trespe"),
    "APESV": ("Apera spica-venti", "loose silky-bent", "windgrass", "jouet du vent",
              "Gemeiner Windhalm", "Windhalm"),
    "MATCH": ("Matricaria chamomilla", "scented mayweed", "matricaire camomille", "Echte Kamille"),
    "TRIIN": ("Tripleurospermum inodorum", "scentless mayweed", "matricaire inodore",
              "Geruchlose Kamille"),
    "VERPE": ("Veronica persica", "common field-speedwell", "véronique de Perse",
              "Persischer Ehrenpreis"),
    "VIOAR": ("Viola arvensis", "field pansy", "pensée des champs", "Acker-Stiefmütterchen"),
    "POLCO": ("Fallopia convolvulus", "black-bindweed", "wild buckwheat", "renouée liseron",
              "Windenknöterich"),
    "POLAV": ("Polygonum aviculare", "knotgrass", "prostrate knotweed", "renouée des oiseaux",
              "Vogelknöterich"),
    "POLPE": ("Persicaria maculosa", "redshank", "lady's thumb", "renouée persicaire", "Floh-Knöterich"),
    "CONAR": ("Convolvulus arvensis", "field bindweed", "liseron des champs", "Acker-Winde", "Ackerwinde"),
    "CAPBP": ("Capsella bursa-pastoris", "shepherd's purse", "bourse-à-pasteur",
              "Gemeines Hirtentäschel", "Hirtentäschel"),
    "SINAR": ("Sinapis arvensis", "charlock", "wild mustard", "moutarde des champs", "Acker-Senf",
              "Ackersenf"),
    "RAPRA": ("Raphanus raphanistrum", "wild radish", "ravenelle", "Hederich"),
    "SOLNI": ("Solanum nigrum", "black nightshade", "morelle noire", "Schwarzer Nachtschatten"),
    "DATST": ("Datura stramonium", "jimsonweed", "thorn apple", "datura stramoine",
              "Gemeiner Stechapfel", "Stechapfel"),
    "ABUTH": ("Abutilon theophrasti", "velvetleaf", "abutilon", "Samtpappel"),
    "XANST": ("Xanthium strumarium", "common cocklebur", "lampourde glouteron", "Gewöhnliche Spitzklette"),
    "ERICA": ("Conyza canadensis", "horseweed", "marestail", "Canadian fleabane", "vergerette du Canada",
              "Kanadisches Berufkraut"),
    "KCHSC": ("Bassia scoparia", "kochia", "kochia à balais", "Besen-Radmelde"),
    "SORHA": ("Sorghum halepense", "johnsongrass", "sorgho d'Alep", "Wilde Mohrenhirse"),
    "CYPES": ("Cyperus esculentus", "yellow nutsedge", "souchet comestible", "Erdmandelgras"),
    "DIGSA": ("Digitaria sanguinalis", "large crabgrass", "digitaire sanguine", "Blutrote Fingerhirse"),
    "ELYRE": ("Elymus repens", "couch grass", "common couch", "quackgrass", "chiendent rampant",
              "chiendent", "Gemeine Quecke", "Quecke"),
    "RUMOB": ("Rumex obtusifolius", "broad-leaved dock", "rumex à feuilles obtuses",
              "Stumpfblättriger Ampfer"),
    "URTUR": ("Urtica urens", "small nettle", "ortie brûlante", "Kleine Brennnessel"),
    "MERAN": ("Mercurialis annua", "annual mercury", "mercuriale annuelle", "Einjähriges Bingelkraut"),
    "GERDI": ("Geranium dissectum", "cut-leaved crane's-bill", "géranium découpé",
              "Schlitzblättriger Storchschnabel"),
    "LAMPU": ("Lamium purpureum", "red dead-nettle", "lamier pourpre", "Purpurrote Taubnessel"),
    "FUMOF": ("Fumaria officinalis", "common fumitory", "fumeterre officinale", "Gemeiner Erdrauch"),
    "EPHHE": ("Euphorbia helioscopia", "sun spurge", "euphorbe réveil-matin", "Sonnenwend-Wolfsmilch"),
    "IPOHE": ("Ipomoea hederacea", "ivyleaf morningglory", "morning glory", "ipomée", "Prunkwinde"),
}

# Names of a genus or group: allowed when any species they cover is in the facts.
GENERIC_WEEDS: dict[str, tuple[str, ...]] = {
    "pigweed": ("AMARE", "AMAPA", "AMATU"), "pigweeds": ("AMARE", "AMAPA", "AMATU"),
    "amaranth": ("AMARE", "AMAPA", "AMATU"), "amaranths": ("AMARE", "AMAPA", "AMATU"),
    "amarante": ("AMARE", "AMAPA", "AMATU"), "amarantes": ("AMARE", "AMAPA", "AMATU"),
    "Amarant": ("AMARE", "AMAPA", "AMATU"), "Amaranthus": ("AMARE", "AMAPA", "AMATU"),
    "foxtail": ("SETVI", "SETFA", "SETPU"), "sétaire": ("SETVI", "SETFA", "SETPU"),
    "Borstenhirse": ("SETVI", "SETFA", "SETPU"), "ryegrass": ("LOLMU", "LOLRI"), "ray-grass": ("LOLMU", "LOLRI"),
    "Weidelgras": ("LOLMU", "LOLRI"), "mayweed": ("MATCH", "TRIIN"), "matricaire": ("MATCH", "TRIIN"),
    "Kamille": ("MATCH", "TRIIN"), "wild oats": ("AVEFA", "AVESL"), "brome": ("BROST",),
}

# Herbicide actives (ISO common names, en/fr/de spellings); salts and esters are
# matched through their stem.
ACTIVES: tuple[str, ...] = (
    "glyphosate", "glyphosat", "glufosinate", "glufosinat", "dicamba", "2,4-D", "2,4-DB", "MCPA", "MCPB",
    "mecoprop", "mecoprop-P", "dichlorprop", "triclopyr", "clopyralid", "picloram", "aminopyralid",
    "fluroxypyr", "halauxifen", "florpyrauxifen", "mesotrione", "mésotrione", "mesotrion", "tembotrione",
    "tembotrion", "topramezone", "topramezon", "isoxaflutole", "sulcotrione", "bicyclopyrone",
    "atrazine", "atrazin", "simazine", "terbuthylazine", "terbuthylazin", "metribuzin", "metribuzine",
    "prometryn", "ametryn", "diuron", "linuron", "isoproturon", "chlorotoluron", "chlortoluron",
    "metamitron", "bentazone", "bentazon", "bromoxynil", "ioxynil", "pyridate", "nicosulfuron",
    "rimsulfuron", "foramsulfuron", "mesosulfuron", "iodosulfuron", "tribenuron", "thifensulfuron",
    "metsulfuron", "chlorsulfuron", "prosulfuron", "halosulfuron", "amidosulfuron", "tritosulfuron",
    "florasulam", "pyroxsulam", "flumetsulam", "cloransulam", "imazamox", "imazethapyr", "imazapyr",
    "imazapic", "imazaquin", "propoxycarbazone", "thiencarbazone", "clodinafop", "fenoxaprop", "fluazifop",
    "quizalofop", "haloxyfop", "cyhalofop", "diclofop", "pinoxaden", "clethodim", "sethoxydim",
    "cycloxydim", "tepraloxydim", "tralkoxydim", "pendimethalin", "trifluralin", "prosulfocarb",
    "flufenacet", "diflufenican", "picolinafen", "beflubutamid", "aclonifen", "S-metolachlor",
    "metolachlor", "acetochlor", "alachlor", "dimethenamid", "dimethenamid-P", "pethoxamid",
    "metazachlor", "napropamide", "propyzamide", "clomazone", "flurochloridone", "fomesafen",
    "lactofen", "acifluorfen", "saflufenacil", "flumioxazin", "sulfentrazone", "carfentrazone",
    "oxyfluorfen", "pyraflufen", "tiafenacil", "paraquat", "diquat", "pyroxasulfone", "cinmethylin",
    "ethofumesate", "phenmedipham", "desmedipham", "chloridazon", "quinmerac", "triallate",
    "chlorpropham", "bifenox", "dimethachlor", "isoxaben", "terbuthylazine", "flazasulfuron",
    "pelargonic acid", "acide pélargonique",
)

# Formulation codes (CropLife International catalogue of formulation types) that
# follow a product name: "Atlantis OD", "Callisto 4SC", "Liberty 280 SL".
FORMULATION_CODES: tuple[str, ...] = (
    "SC", "OD", "WG", "WDG", "SL", "EC", "EW", "SE", "SG", "SP", "WP", "CS", "ME", "ZC", "DC", "GR", "L",
    "EC/ME", "XL", "SX", "DF",
)

# Suffixes that only herbicide actives end with; a word ending so and not in the
# facts is treated as an active the answer made up.
ACTIVE_SUFFIXES: tuple[str, ...] = (
    "sulfuron", "trione", "trion", "pyralid", "flufenican", "osinate", "phosate", "xydim", "alofop",
    "achlor", "azolin", "buzin", "fentrazone", "flutole", "pyrauxifen", "auxifen",
)
