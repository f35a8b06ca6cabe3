"""Real-looking articles and their copies, written for these tests (no third-party text)."""

from __future__ import annotations

from dataclasses import dataclass

QUAKE_TITLE = "Magnitude 6.4 earthquake strikes southern Peru, killing at least 12"
QUAKE = """A magnitude 6.4 earthquake struck southern Peru early on Tuesday, killing at least 12 people and injuring more than 140, the country's civil defence institute said.
The quake hit at 3:42 a.m. local time about 38 kilometres north-west of Arequipa at a depth of 61 kilometres, according to the United States Geological Survey.
Residents in Arequipa and the nearby town of Chivay rushed into the streets as buildings shook for almost a minute.
Peru's Prime Minister Gustavo Adrianzen said the government had declared a 60-day state of emergency in 14 districts of the Arequipa region.
Rescue teams from the National Police and the armed forces were searching collapsed adobe homes in Chivay, where at least 7 of the victims were found.
The Colca Canyon road was blocked by landslides in 3 places, cutting off villages that depend on tourism, officials said.
"We are working hour by hour to reach every family that is isolated," Adrianzen told reporters in Lima.
The civil defence institute said 860 homes were damaged and 95 were destroyed, and that aftershocks of up to magnitude 4.7 had been recorded.
Peru sits on the Pacific Ring of Fire and records hundreds of earthquakes each year, most of them too weak to be felt.
The last deadly quake in the region, in 2001, killed 145 people and left thousands homeless along the southern coast.
Health Minister Cesar Vasquez said 4 field hospitals would be set up in Caylloma province by Wednesday.
Schools in 9 districts will remain closed until engineers have checked their buildings, the education ministry said."""

# A different earthquake: same vocabulary, different place, numbers, people and month.
QUAKE2_TITLE = "Strong 6.1 quake shakes central Chile, 3 dead as power fails in Talca"
QUAKE2 = """A magnitude 6.1 earthquake shook central Chile on Saturday evening, killing 3 people and leaving more than 200,000 homes without power, the national disaster agency Senapred said.
The quake struck at 8:17 p.m. about 25 kilometres east of Talca at a depth of 92 kilometres, the University of Chile's seismological centre reported.
Interior Minister Carolina Toha said two of the victims died when a wall collapsed in the town of San Clemente.
Senapred said 41 homes were seriously damaged in the Maule region and that the Route 5 motorway was briefly closed near Curico.
"The response of the emergency services was fast, and we are evaluating damage in the rural areas," Toha told a news conference in Santiago.
Electricity distributor CGE said supply had been restored to 80 percent of customers by Sunday morning.
Chile is one of the most seismically active countries in the world; a magnitude 8.8 quake in 2010 killed more than 500 people.
Schools in Talca and Linares will stay closed on Monday while engineers inspect them, the education ministry said."""

# Same Peru event, told by another outlet in its own words.
QUAKE_OTHER_TITLE = "Peru declares emergency after deadly Arequipa quake"
QUAKE_OTHER = """Peru's government declared a state of emergency across 14 districts of Arequipa on Tuesday after a powerful earthquake flattened adobe houses and killed at least 12 people.
Prime Minister Gustavo Adrianzen, speaking in Lima, said the emergency would last 60 days and free up funds for reconstruction.
The tremor, measured at magnitude 6.4 by the USGS, was centred in the mountains north-west of Arequipa, the country's second city.
Most of the dead were in Chivay, a gateway town for visitors to the Colca Canyon, where rescuers dug through rubble with their hands.
Landslides cut the main road into the canyon, and helicopters carried the injured to hospitals in Arequipa.
Local businesses fear a long slump in tourism, which employs nearly half of the workforce in Caylloma province.
Aftershocks continued through the morning, and many families said they would sleep outdoors for a second night."""

# Own translations of QUAKE (first 8 sentences).
QUAKE_ES_TITLE = "Un terremoto de magnitud 6,4 sacude el sur de Perú y deja al menos 12 muertos"
QUAKE_ES = """Un terremoto de magnitud 6,4 sacudió el sur de Perú la madrugada del martes, causando la muerte de al menos 12 personas y heridas a más de 140, informó el instituto de defensa civil del país.
El sismo se produjo a las 3:42 hora local a unos 38 kilómetros al noroeste de Arequipa, a una profundidad de 61 kilómetros, según el Servicio Geológico de Estados Unidos.
Los vecinos de Arequipa y del cercano pueblo de Chivay salieron a las calles mientras los edificios temblaban durante casi un minuto.
El primer ministro de Perú, Gustavo Adrianzén, dijo que el gobierno había declarado un estado de emergencia de 60 días en 14 distritos de la región de Arequipa.
Equipos de rescate de la Policía Nacional y de las fuerzas armadas buscaban en casas de adobe derrumbadas en Chivay, donde se encontraron al menos 7 de las víctimas.
La carretera del Cañón del Colca quedó bloqueada por deslizamientos en 3 puntos, aislando a pueblos que dependen del turismo, dijeron las autoridades.
"Estamos trabajando hora tras hora para llegar a cada familia aislada", dijo Adrianzén a los periodistas en Lima.
El instituto de defensa civil indicó que 860 viviendas resultaron dañadas y 95 destruidas, y que se registraron réplicas de hasta magnitud 4,7.
Perú se encuentra en el Cinturón de Fuego del Pacífico y registra cientos de sismos cada año, la mayoría demasiado débiles para sentirse.
El último sismo mortal en la región, en 2001, mató a 145 personas y dejó a miles sin hogar en la costa sur.
El ministro de Salud, César Vásquez, dijo que se instalarán 4 hospitales de campaña en la provincia de Caylloma para el miércoles.
Las escuelas de 9 distritos permanecerán cerradas hasta que los ingenieros revisen sus edificios, informó el ministerio de educación."""

QUAKE_ZH_TITLE = "秘鲁南部发生6.4级地震 至少12人遇难"
QUAKE_ZH = """秘鲁南部周二凌晨发生6.4级地震，造成至少12人死亡、140多人受伤，该国民防研究所表示。
据USGS（美国地质调查局）消息，地震发生在当地时间凌晨3:42，震中位于Arequipa西北约38公里处，震源深度61公里。
Arequipa和附近Chivay镇的居民在建筑物摇晃近一分钟时纷纷跑到街上。
秘鲁总理Gustavo Adrianzen表示，政府已在Arequipa地区的14个区宣布为期60天的紧急状态。
国家警察和武装部队的救援队正在Chivay倒塌的土坯房中搜寻，至少7名遇难者在那里被发现。
Colca峡谷公路在3处被山体滑坡阻断，依赖旅游业的村庄与外界隔绝，官员表示。
Adrianzen在Lima对记者说：“我们正在争分夺秒，努力联系每一个被困的家庭。”
民防研究所表示，860所房屋受损，95所被毁，并记录到最高4.7级的余震。
秘鲁位于太平洋火山带，每年发生数百次地震，其中大多数震感轻微。
该地区上一次致命地震发生在2001年，造成145人死亡，南部沿海数千人无家可归。
卫生部长Cesar Vasquez表示，到周三将在Caylloma省设立4所野战医院。
教育部表示，9个区的学校将关闭，直至工程师检查完校舍。"""

# A word-spun copy of QUAKE: about 40% of words swapped for "synonyms", numbers, names and order kept.
QUAKE_SPUN_TITLE = "Magnitude 6.4 quake hits southern Peru, killing a minimum of 12"
QUAKE_SPUN = """A magnitude 6.4 tremor hit southern Peru early on Tuesday, killing a minimum of 12 individuals and hurting greater than 140, the nation's civil safety institute stated.
The tremor struck at 3:42 a.m. native time roughly 38 kilometres north-west of Arequipa at a depth of 61 kilometres, in accordance with the United States Geological Survey.
Inhabitants in Arequipa and the close by city of Chivay hurried into the roads as structures trembled for practically a minute.
Peru's Prime Minister Gustavo Adrianzen mentioned the administration had declared a 60-day state of urgency in 14 districts of the Arequipa area.
Rescue groups from the National Police and the military had been looking collapsed adobe properties in Chivay, the place a minimum of 7 of the victims had been discovered.
The Colca Canyon highway was obstructed by landslides in 3 locations, chopping off villages that rely upon tourism, officers mentioned.
"We're working hour by hour to achieve each household that's remoted," Adrianzen instructed journalists in Lima.
The civil safety institute mentioned 860 houses had been broken and 95 had been demolished, and that aftershocks of as much as magnitude 4.7 had been logged.
Peru sits on the Pacific Ring of Fire and information a whole lot of earthquakes annually, most of them too feeble to be felt.
The final lethal tremor within the area, in 2001, killed 145 individuals and left 1000's homeless alongside the southern shoreline.
Well being Minister Cesar Vasquez mentioned 4 area hospitals could be arrange in Caylloma province by Wednesday.
Faculties in 9 districts will stay shut till engineers have inspected their buildings, the schooling ministry mentioned."""

BOILER_BEFORE = """📰 Exclusive Crypto News & Analysis: Stay ahead with the latest developments in markets and blockchain.
📈 Market Update: Real-time price movements, technical analysis, and trading signals every hour.
Pro Tip: Bookmark our site and share it with friends to never miss a headline again."""
BOILER_AFTER = """Daily Briefing Newsletter
Start every day with the top news stories right now, plus original features, a podcast, videos and more.
Disclaimer: The information on this site is for general information only and is not investment advice.
Follow us on Telegram, X and Facebook for instant alerts and exclusive giveaways."""

QUAKE_EXCERPT_TITLE = "Deadly earthquake in Peru"
QUAKE_EXCERPT = (
    "A magnitude 6.4 earthquake struck southern Peru early on Tuesday, killing at least 12 people and injuring "
    "more than 140, the country's civil defence institute said. The quake hit at 3:42 a.m. local time about 38 "
    "kilometres north-west of Arequipa at a depth of 61 kilometres, according to the United States Geological "
    "Survey. Residents in Arequipa and the nearby town of Chivay rushed into the streets as buildings shook for "
    "almost a minute.\nRead the original on Andeswire"
)

# Two distillation accusations months apart against different labs.
DISTILL_FEB_TITLE = "Anthropic says DeepSeek, Moonshot and MiniMax ran distillation attacks on Claude"
DISTILL_FEB = """Anthropic said on Monday that three Chinese AI developers, DeepSeek, Moonshot AI and MiniMax, used about 24,000 fraudulent accounts to generate more than 16 million exchanges with its Claude models.
The San Francisco company said the campaigns were designed to distill Claude's capabilities into cheaper rival models.
According to Anthropic, MiniMax accounted for the largest share of the traffic, followed by Moonshot AI and DeepSeek.
The company said it had banned the accounts and shared technical indicators with other AI labs and with US authorities.
"Distillation at this scale is an attempt to take the results of years of research without paying for it," Anthropic wrote in a blog post.
DeepSeek, Moonshot AI and MiniMax did not respond to requests for comment.
The disclosure comes as Washington debates tighter export controls on advanced chips sold to China."""

DISTILL_JUNE_TITLE = "Anthropic tells senators Alibaba-linked operators ran record distillation campaign"
DISTILL_JUNE = """Anthropic told US senators in a June 10 letter that operators tied to Alibaba and its Qwen AI lab ran the largest distillation campaign it has detected against Claude.
The operators used nearly 25,000 fraudulent accounts to generate 28.8 million exchanges between April 22 and June 5, the company said.
The letter to Senate Banking Committee Chairman Tim Scott and Ranking Member Elizabeth Warren asks Congress to expand intelligence sharing and penalize firms behind model extraction.
Anthropic said the campaign targeted Claude's agentic reasoning and software engineering skills.
"Alibaba is listed on the New York Stock Exchange and is accountable to U.S. investors and regulators," Anthropic wrote.
Alibaba did not comment on the allegations.
Senators Bill Hagerty and Andy Kim plan an amendment to sanction Chinese firms that improperly access US model outputs."""


def wrap(text: str) -> str:
    return BOILER_BEFORE + "\n" + text + "\n" + BOILER_AFTER


@dataclass(frozen=True)
class CopyCase:
    """A text measured against the Peru quake original (QUAKE_TITLE, QUAKE): what `compare`
    calls it (`kind`, "none" = not a copy) and its relation once in the original's group."""

    name: str
    title: str
    text: str
    kind: str
    relation: str = ""


# Shared by the pairwise table (test_copies.py) and the engine run (test_engine.py).
COPY_CASES = [
    CopyCase("verbatim mirror", QUAKE_TITLE, QUAKE, "mirror", "mirror"),
    CopyCase("wrapped mirror", QUAKE_TITLE, wrap(QUAKE), "mirror", "mirror"),
    CopyCase("retitled copy", "Arequipa quake: what we know so far", QUAKE, "mirror", "mirror"),
    CopyCase("spun copy", QUAKE_SPUN_TITLE, QUAKE_SPUN, "near", "spun"),
    CopyCase("wrapped spun copy", QUAKE_SPUN_TITLE, wrap(QUAKE_SPUN), "near", "spun"),
    CopyCase("excerpt with credit", QUAKE_EXCERPT_TITLE, QUAKE_EXCERPT, "excerpt", "excerpt"),
    CopyCase("spanish translation", QUAKE_ES_TITLE, QUAKE_ES, "translation", "translation"),
    CopyCase("chinese translation", QUAKE_ZH_TITLE, QUAKE_ZH, "translation", "translation"),
]
NOT_COPY_CASES = [
    CopyCase("same story, different article", QUAKE_OTHER_TITLE, QUAKE_OTHER, "none"),
    CopyCase("different earthquake", QUAKE2_TITLE, QUAKE2, "none"),
    CopyCase("different topic", DISTILL_JUNE_TITLE, DISTILL_JUNE, "none"),
]
