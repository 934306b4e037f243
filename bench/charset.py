#!/usr/bin/env python3
"""Codes written in a legacy charset without ECI, as old encoders make
them: Chinese shop and payment texts in GB18030 (GBK), Japanese ones in
Shift_JIS (kana, kanji, half-width katakana). Each is rendered in 8-bit
mode by qrencode -8 and read by wpay-scanqr, zbarimg and ZXingReader;
printed: right texts per tool and charset, and wpay-scanqr's confidences.

Goal (issue 14): every text right, GB18030 and Shift_JIS alike.

Usage: bench/charset.py [wpay-scanqr]"""
import json
import os
import subprocess
import sys
import tempfile

scanqr = sys.argv[1] if len(sys.argv) > 1 else "bin/wpay-scanqr"

CHINESE = ["北京咖啡", "微信支付", "支付宝收款", "上海浦东新区陆家嘴", "小米之家", "兰州拉面", "沙县小吃",
           "星巴克咖啡", "便利店", "深圳市南山区科技园", "麻辣烫", "水果店 欢迎光临", "杭州西湖 龙井茶",
           "请扫码付款", "收款方: 张三", "餐厅 No.8", "广州酒家", "成都火锅", "肯德基", "超市 满100减20"]
JAPANESE = ["今日はいい天気", "東京駅", "ﾃﾞｻﾞｲﾝQR", "ｲﾗｽﾄ入りｶﾗｰQRｺｰﾄﾞ", "カフェ・ド・パリ", "ラーメン一番",
            "お支払いはこちら", "ｺﾝﾋﾞﾆ", "すし屋", "大阪 たこ焼き", "ｶﾞｿﾘﾝｽﾀﾝﾄﾞ", "ありがとうございます",
            "ﾎﾟｲﾝﾄｶｰﾄﾞ", "喫茶店", "バス停", "ｻｰﾋﾞｽ", "駐車場 ご利用", "ﾒﾆｭｰ", "本日の定食", "ﾊﾟﾝ屋"]


def wpay(path):
    out = subprocess.run([scanqr, path], capture_output=True).stdout.decode()
    recs = [json.loads(line) for line in out.splitlines() if line.strip()]
    return [(r.get("text"), r.get("encoding_confidence")) for r in recs if r.get("type") == "scan"]


def zbarimg(path):
    out = subprocess.run(["zbarimg", "-q", "--raw", "-Sdisable", "-Sqrcode.enable", path], capture_output=True).stdout
    return [(out.decode("utf-8", "replace")[:-1], None)] if out else []


def zxing(path):
    out = subprocess.run(["ZXingReader", "-format", "QRCode", path], capture_output=True).stdout
    out = out.decode("utf-8", "replace")
    i = out.find('Text:       "')
    j = out.find('"\nBytes:', i)
    return [(out[i + 13:j], None)] if i >= 0 and j >= 0 else []


def main():
    tools = [("wpay-scanqr", wpay), ("zbarimg", zbarimg), ("ZXingReader", zxing)]
    right = {(t, cs): 0 for t, _ in tools for cs in ("gb18030", "shift_jis")}
    confidence = {}
    with tempfile.TemporaryDirectory() as work:
        for cs, python_cs, texts in (("gb18030", "gb18030", CHINESE), ("shift_jis", "cp932", JAPANESE)):
            for n, text in enumerate(texts):
                path = os.path.join(work, "%s-%d.png" % (cs, n))
                subprocess.run(["qrencode", "-8", "-s", "6", "-o", path], input=text.encode(python_cs), check=True)
                for name, read in tools:
                    got = read(path)
                    if got and got[0][0] == text:
                        right[(name, cs)] += 1
                    elif name == "wpay-scanqr":
                        print("wpay-scanqr wrong:", cs, text, "->", got[0][0] if got else None)
                    if name == "wpay-scanqr" and got:
                        confidence[got[0][1]] = confidence.get(got[0][1], 0) + 1
    for name, _ in tools:
        print("%-12s GB18030 right %2d/%d   Shift_JIS right %2d/%d" %
              (name, right[(name, "gb18030")], len(CHINESE), right[(name, "shift_jis")], len(JAPANESE)))
    print("wpay-scanqr confidence:", ", ".join("%s %d" % kv for kv in sorted(confidence.items(), key=str)))


main()
