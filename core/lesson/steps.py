"""The lesson's steps in the article's order. Each claim is the project's own one- or two-sentence
summary (zh and en) of a passage of ../shared/ARTICLE.md; `section` names that passage, and `article`
holds the article's own figures for the step — the numbers the measured answer is set beside."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Step:
    id: str
    title_zh: str
    title_en: str
    section: str  # where the article says it: ARTICLE.md's numbered steps
    claim_zh: str
    claim_en: str
    dock: str  # the dock Do it raises
    article: dict = field(default_factory=dict)  # the article's figures for this step
    article_zh: str = ""  # the article's figures in words
    article_en: str = ""
    trains_s: float = 0.0  # > 0: Do it trains, for about this long (a recorded result can stand in)
    trains_zh: str = ""  # how long training live takes, in words
    trains_en: str = ""


# The sentence every step that reads text uses; the attention probe adds the answer slot 它是.
SENTENCE = "猫坐在垫子上，它很舒服。"
ATTENTION_TEXT = SENTENCE + "它是"
SOFT_LABEL_TEXT = ATTENTION_TEXT
TAG_WORDS = ("猫", "垫子")

STEPS: tuple[Step, ...] = (
    Step(
        "tokens",
        "自动编码",
        "Automatic encoding",
        "§4",
        "模型读不了汉字本身：每个字先换成一个编号，每个编号再对应一串数字（向量）。"
        "这些数字不是人写进去的，而是训练时自己学出来的。",
        "A model cannot read characters as such: each piece of text becomes an id, and each id stands for "
        "a row of numbers (a vector) that training finds on its own rather than a person writing it.",
        "tokenizerDock",
        {"learned": True},
        "词变成向量；向量是学出来的，不是手工设定的",
        "words become vectors that are learned, not set by hand",
    ),
    Step(
        "tags",
        "性格标签",
        "Personality tags",
        "§3",
        "给一个词打分，就像给人贴性格标签：每个维度从 −1 到 1。文章说“猫”在“动物”上很高、在“物体”上很低，"
        "“垫子”正好相反，所以带感情的“舒服”更配“猫”。",
        "Scoring a word is like tagging a person's traits, each from −1 to 1. The article has 猫 high on "
        "'animal' and low on 'object', 垫子 the other way round, so the feeling word 舒服 suits 猫 better.",
        "embeddingDock",
        {"猫": {"animal": 0.9, "object": -0.8, "emotion": 0.6, "size": 0.3}, "垫子": {"animal": -0.9}},
        "猫：动物≈0.9，物体≈−0.8，情感≈0.6，大小≈0.3；垫子在动物/物体上相反",
        "猫: animal ≈0.9, object ≈−0.8, emotion ≈0.6, size ≈0.3; 垫子 the opposite on animal/object",
    ),
    Step(
        "cloze",
        "填空游戏",
        "Fill in the blank",
        "§4",
        "训练就是一场填空游戏：遮住一个词让模型猜，猜错就微调向量。"
        "在“猫坐在＿上”里，能坐的东西（沙发、床、垫子）应该得高分，电风扇、灯泡应该很低。",
        "Training is a fill-in-the-blank game: hide a word, let the model guess, nudge the vectors after each "
        "miss. For 猫坐在＿上, things one sits on (沙发, 床, 垫子) should score high and 电风扇, 灯泡 low.",
        "clozeDock",
        {"prompt": "猫坐在＿上", "high": ("沙发", "床", "垫子"), "low": ("电风扇", "灯泡")},
        "沙发 / 床 / 垫子 概率高，电风扇 / 灯泡 概率低",
        "沙发 / 床 / 垫子 likely, 电风扇 / 灯泡 unlikely",
    ),
    Step(
        "attention",
        "自注意力",
        "Self-attention",
        "§1, §2, §4",
        "自注意力给句中每两个词的关系打分。文章的例子里，“它”指向“猫”的分数约 0.9，指向“垫子”的低得多。",
        "Self-attention scores how strongly each word relates to each other word. In the article's example "
        "它 gives 猫 about 0.9 and the other noun, 垫子, far less.",
        "attentionDock",
        {"cat": 0.9, "mat": "much lower"},
        "它 → 猫 ≈ 0.9，它 → 垫子 低得多",
        "它 → 猫 ≈ 0.9, 它 → 垫子 much lower",
    ),
    Step(
        "training",
        "反复训练",
        "Training, over and over",
        "§4",
        "把猜词和微调在海量文本上重复几百万到几十亿次，模型就越来越准。所谓“理解”只是比喻，背后全是算术。",
        "Guess-and-adjust is repeated over huge amounts of text, millions to billions of times, and the model "
        "gets better. 'Understanding' is a figure of speech: underneath it is all arithmetic.",
        "trainingDock",
        {"updates": (1e6, 1e9)},
        "几百万到几十亿次更新",
        "millions to billions of updates",
        trains_s=60.0,
        trains_zh="现场训练约 60 秒（default 预设）",
        trains_en="Training live takes about 60 s (the default preset)",
    ),
    Step(
        "gpt3",
        "GPT-3 的计算量",
        "GPT-3's compute",
        "§5",
        "一次乘加算作浮点运算（FLOPs）。文章说训练 1750 亿参数的 GPT-3 用了 3.14×10²³ 次，"
        "相当于一张 A100 跑 355 年，或 3,640 张 A100 跑一个月。",
        "One multiply-add counts as floating-point operations (FLOPs). The article puts GPT-3's training "
        "(175 B parameters) at 3.14×10²³, i.e. one A100 for 355 years or 3,640 A100s for a month.",
        "costDock",
        {"flops": 3.14e23, "a100_years": 355.0, "a100_month_gpus": 3640, "month_days": 30.0},
        "3.14×10²³ FLOPs；一张 A100 355 年；3,640 张 A100 一个月",
        "3.14×10²³ FLOPs; one A100 for 355 years; 3,640 A100s for a month",
    ),
    Step(
        "h800",
        "H800 与 H100",
        "H800 and H100",
        "§6",
        "出口管制让 H100 进不了中国，NVIDIA 改卖 H800。文章说 H800 只有 H100 的 60–77% 性能（差 1.3–1.6 倍）。",
        "Export rules keep the H100 out of China, so NVIDIA sold the H800 there instead; the article says the "
        "H800 delivers 60–77 % of an H100 (a 1.3–1.6× gap).",
        "costDock",
        {"ratio": (0.60, 0.77)},
        "H800 ≈ H100 的 60–77%",
        "H800 ≈ 60–77 % of an H100",
    ),
    Step(
        "distill",
        "模型蒸馏",
        "Distillation",
        "§7",
        "蒸馏：让小模型（学生）去学大模型（老师）给出的整份概率，例如“它”＝猫 85%、垫子 15%，"
        "这比只告诉它正确答案信息更多，于是学生学得更快、更省。",
        "Distillation: a small student learns the teacher's whole probability spread — say 它 = 猫 85 %, "
        "垫子 15 % — which says more than the right answer alone, so the student learns faster and cheaper.",
        "distillDock",
        {"soft_labels": {"猫": 0.85, "垫子": 0.15}, "faster": True, "cheaper": True},
        "它 = 猫 85%、垫子 15%；学生更快、更省",
        "它 = 猫 85 %, 垫子 15 %; the student is faster and cheaper",
        trains_s=90.0,
        trains_zh="现场比赛要把学生训练两遍（蒸馏和从头训练），需要几分钟，进度见蒸馏面板",
        trains_en="A live race trains the student twice (distilled and from scratch): minutes; "
        "the distillation "
        "panel shows its progress",
    ),
)

STEP_IDS: tuple[str, ...] = tuple(s.id for s in STEPS)


def step(step_id: str) -> Step:
    for s in STEPS:
        if s.id == step_id:
            return s
    raise KeyError(f"no lesson step {step_id!r}; steps are {', '.join(STEP_IDS)}")
