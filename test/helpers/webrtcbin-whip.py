#!/usr/bin/python3
"""A WHIP client (RFC 9725) on GStreamer's webrtcbin, as GStreamer 1.22 users build one.

    webrtcbin-whip.py <whip-url> [--bundle-policy max-bundle|balanced|max-compat] [--seconds N]
    webrtcbin-whip.py --check      (exit 0 when every element it uses is installed)

videotestsrc -> x264enc -> rtph264pay and audiotestsrc -> opusenc -> rtpopuspay into one
webrtcbin; the offer is POSTed once ICE gathering is complete (no trickle), the answer applied.
Prints JSON lines on stdout: {"event": "answer", "sdp": ...}, {"event": "connected"},
{"event": "done"} or {"event": "error", "message": ...}. Exits after --seconds of media or on
an error; SIGTERM stops it at once.
"""

import argparse
import json
import signal
import sys
import urllib.error
import urllib.request

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402


def emit(event, **fields):
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


ELEMENTS = ["webrtcbin", "nicesrc", "dtlssrtpenc", "videotestsrc", "x264enc", "rtph264pay", "audiotestsrc", "opusenc", "rtpopuspay"]


def check():
    Gst.init(None)
    missing = [name for name in ELEMENTS if Gst.ElementFactory.find(name) is None]
    if missing:
        sys.stderr.write(f"missing GStreamer elements: {', '.join(missing)}\n")
        sys.exit(1)
    sys.exit(0)


def main():
    if sys.argv[1:] == ["--check"]:
        check()
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--bundle-policy", default="max-bundle", choices=["none", "balanced", "max-compat", "max-bundle"])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()

    Gst.init(None)
    pipeline = Gst.parse_launch(
        f"webrtcbin name=webrtc bundle-policy={args.bundle_policy} "
        "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ! videoconvert ! "
        "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 bitrate=600 ! video/x-h264,profile=constrained-baseline ! "
        "rtph264pay config-interval=-1 aggregate-mode=zero-latency ! "
        "application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000 ! webrtc. "
        "audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample ! audio/x-raw,rate=48000,channels=2 ! "
        "opusenc ! rtpopuspay ! application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000 ! webrtc."
    )
    webrtc = pipeline.get_by_name("webrtc")
    loop = GLib.MainLoop()
    state = {"posted": False, "code": 0}

    def fail(message):
        emit("error", message=message)
        state["code"] = 1
        loop.quit()

    def post_offer():
        if state["posted"]:
            return
        state["posted"] = True
        offer = webrtc.get_property("local-description").sdp.as_text()
        request = urllib.request.Request(args.url, data=offer.encode(), method="POST", headers={"Content-Type": "application/sdp"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                if response.status != 201:
                    return fail(f"http {response.status}")
                answer_text = response.read().decode()
        except urllib.error.HTTPError as error:
            return fail(f"http {error.code}: {error.read().decode(errors='replace')}")
        except OSError as error:
            return fail(f"POST failed: {error}")
        emit("offer", sdp=offer)
        emit("answer", sdp=answer_text)
        _, message = GstSdp.SDPMessage.new_from_text(answer_text)
        answer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, message)
        webrtc.emit("set-remote-description", answer, Gst.Promise.new())

    def on_gathering(element, _pspec):
        if element.get_property("ice-gathering-state") == GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            GLib.idle_add(lambda: post_offer() and False)

    def on_offer_created(promise, _data):
        reply = promise.get_reply()
        offer = reply.get_value("offer")
        webrtc.emit("set-local-description", offer, Gst.Promise.new())

    def on_negotiation_needed(element):
        index = 0
        while (transceiver := element.emit("get-transceiver", index)) is not None:
            index += 1
            transceiver.set_property("direction", GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)
        element.emit("create-offer", None, Gst.Promise.new_with_change_func(on_offer_created, None))

    def on_connection(element, _pspec):
        value = element.get_property("connection-state")
        if value == GstWebRTC.WebRTCPeerConnectionState.CONNECTED:
            emit("connected")
            GLib.timeout_add(int(args.seconds * 1000), done)
        elif value == GstWebRTC.WebRTCPeerConnectionState.FAILED:
            fail("connection failed")

    def on_message(_bus, message):
        if message.type == Gst.MessageType.ERROR:
            error, debug = message.parse_error()
            fail(f"{error.message} ({debug})")

    def done():
        emit("done")
        loop.quit()
        return False

    webrtc.connect("on-negotiation-needed", on_negotiation_needed)
    webrtc.connect("notify::ice-gathering-state", on_gathering)
    webrtc.connect("notify::connection-state", on_connection)
    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, lambda: loop.quit() or False)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, lambda: loop.quit() or False)

    pipeline.set_state(Gst.State.PLAYING)
    GLib.timeout_add(int(args.seconds * 1000) + 15000, lambda: fail("no connection") or False)
    loop.run()
    pipeline.set_state(Gst.State.NULL)
    sys.exit(state["code"])


if __name__ == "__main__":
    main()
