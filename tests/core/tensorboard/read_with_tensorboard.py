"""Reads a run's events/ folder with the real TensorBoard package (its EventAccumulator, as the
TensorBoard server does) and prints what it found as JSON: scalar tags with their steps, audio and image
tags with their sizes. Each image is also decoded (PNG chunks, zlib) to check it holds its pixels.
usage: python3 read_with_tensorboard.py RUN/events"""
import json
import struct
import sys
import zlib

from tensorboard.backend.event_processing import event_accumulator


def png_pixels_ok(png, width, height):
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        return False
    at, idat = 8, b""
    while at < len(png):
        (length,) = struct.unpack(">I", png[at:at + 4])
        kind, body = png[at + 4:at + 8], png[at + 8:at + 8 + length]
        (crc,) = struct.unpack(">I", png[at + 8 + length:at + 12 + length])
        if zlib.crc32(kind + body) != crc:
            return False
        if kind == b"IDAT":
            idat += body
        at += 12 + length
    return len(zlib.decompress(idat)) == height * (width * 3 + 1)


acc = event_accumulator.EventAccumulator(sys.argv[1], size_guidance={"scalars": 0, "audio": 0, "images": 0})
acc.Reload()
tags = acc.Tags()
out = {"scalars": {t: {"steps": [e.step for e in acc.Scalars(t)], "values": [e.value for e in acc.Scalars(t)]}
                   for t in tags["scalars"]},
       "audio": {t: [[e.step, e.sample_rate, e.length_frames, e.encoded_audio_string[:4].decode("latin-1")]
                     for e in acc.Audio(t)] for t in tags["audio"]},
       "images": {t: [[e.step, e.width, e.height, png_pixels_ok(e.encoded_image_string, e.width, e.height)]
                      for e in acc.Images(t)] for t in tags["images"]}}
json.dump(out, sys.stdout)
