"""Synthetic Chinese names from character pools (no faker, no network, every name obviously made up)."""

from __future__ import annotations

import zlib

import numpy as np

# Place-name characters: two of them plus a suffix read like a real township or village,
# while the combinations are drawn at random and marked 虚构 in the regions file.
PLACE_FIRST = (
    "东西南北上中下前后新老大小高长安平和兴华永宝清青龙凤金银石白黄红柳杨桃李梅松竹花"
    "田黎马鹿云双三五七九太丰庆瑞福寿康乐民顺同合江河湖溪泉峰岭坪坝湾塘桥庄堡营关渡"
    "仁义礼智信忠孝德善明光阳春秋古郭邓罗何胡赵孙钱周吴郑王冯陈褚卫蒋沈韩朱秦尤许吕施张"
)
PLACE_SECOND = (
    "坪坝沟湾河溪峪岭山川园林庄桥寨营堡湖塘泉口关门阳明光华兴丰宁安乐家铺店田池源水台坡"
    "垭梁岗坎岩滩洲渠井院村寺观庙楼阁亭场市集坊街巷滨渚岛峡谷涧嘴垴"
)
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜"
    "叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华慧巧美玉兰桂红霞平刚俊峰建国志文斌宏鹏飞波辉"
    "海燕欣怡梓涵浩宇轩萱晨阳佳琪鑫博瑶婷雪梅松林森亮成德福安宁永春秋冬晓东旭立新振"
)
FIRM_WORDS = ("汉江", "天汉", "秦巴", "褒河", "龙岗", "朱鹮", "汉源", "兴元", "南湖", "定军", "汉水", "青木")
FIRM_TRADES = ("建设工程", "农业开发", "食品", "物流", "商贸", "茶业", "医药", "能源", "建材", "文化旅游", "水务", "电子")


def rng_for(seed: int, *keys: object) -> np.random.Generator:
    """An independent stream per entity: the same county gets the same story whatever else is generated."""
    return np.random.default_rng([seed, *(zlib.crc32(str(k).encode("utf-8")) for k in keys)])


def pick(rng: np.random.Generator, pool: str | tuple[str, ...]) -> str:
    return pool[int(rng.integers(len(pool)))]


def place_name(rng: np.random.Generator, taken: set[str], suffix: str) -> str:
    """A two-character place name + suffix not yet in `taken` (callers decide the scope of uniqueness)."""
    for _ in range(10_000):
        a, b = pick(rng, PLACE_FIRST), pick(rng, PLACE_SECOND)
        if a == b:
            continue
        name = a + b + suffix
        if name not in taken:
            taken.add(name)
            return name
    raise RuntimeError("place-name pool exhausted")  # pragma: no cover - the pools hold ~9,000 pairs


def person_name(rng: np.random.Generator) -> str:
    given = pick(rng, GIVEN) if rng.random() < 0.35 else pick(rng, GIVEN) + pick(rng, GIVEN)
    return pick(rng, SURNAMES) + given


def person_names(rng: np.random.Generator, n: int) -> list[str]:
    """Vectorised person_name for survey files with thousands of respondents."""
    s = rng.integers(len(SURNAMES), size=n)
    g1 = rng.integers(len(GIVEN), size=n)
    g2 = rng.integers(len(GIVEN), size=n)
    two = rng.random(n) >= 0.35
    return [SURNAMES[a] + GIVEN[b] + (GIVEN[c] if t else "") for a, b, c, t in zip(s, g1, g2, two, strict=True)]
