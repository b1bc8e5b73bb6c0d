"""WebRTC lip sync (issue 5: "RTCP sender reports (lip sync) … Audio and video stay in
sync within 80 ms"), measured the way a browser lines the two tracks up.

An anchor (the ffmpeg CLI over RTMP: x264 baseline, no B-frames, zerolatency; AAC)
publishes black video with one white frame at every whole second of media time, and
silence with a 1 kHz tone burst starting at the same instants. An aiortc WHEP viewer
decodes both tracks (H.264 and the Opus the server transcodes the AAC to) and records,
per decoded video frame, its RTP timestamp and mean luma; per decoded Opus frame, its RTP
timestamp and samples; and every RTCP sender report (SR) the server sends, per SSRC.

A receiver has no other link between the two RTP clocks than the SRs (RFC 3550 6.4.1:
the NTP time and RTP timestamp of one instant, per SSRC), so each flash and each tone
onset is put on the sender's NTP clock with the latest SR of its SSRC received before
the frame was decoded:  ntp = sr_ntp + (rtp − sr_rtp) / clock  (90 kHz video, 48 kHz
Opus). Paired per second, |audio − video| must stay ≤ 80 ms for every pair (≥ 6 pairs).

What aiortc 1.4 gives (read in /usr/lib/python3/dist-packages/aiortc):
- a video frame's pts is the RTP timestamp of its access unit less the first one the
  receiver saw (RTCRtpReceiver's TimestampMapper; codecs/h264.py sets packet.pts to it
  and, with no B-frames, PyAV hands it back on the frame); whep_viewer adds the origin
  back (rtp_timestamp_of);
- an audio frame's pts is the same mapping of the Opus packet's RTP timestamp
  (codecs/opus.py: frame.pts = encoded_frame.timestamp, 960 samples per packet), so
  sample i of the frame is RTP timestamp pts + i;
- aiortc decodes Opus with libopus and, like a browser's WebRTC stack, does not remove
  the encoder's lookahead: RTP timestamps in WebRTC carry no pre-skip (RFC 7587 has no
  field for it), so whatever delay the server's libopus encoder adds (312 samples,
  6.5 ms at 48 kHz) shows up as audio late by that much, here as in Chromium. The server
  stamps each Opus packet with its input's pts (OpusTranscoder: packet pts +
  initial_padding), which leaves exactly that 6.5 ms; the AAC priming (1024 samples) is
  already in the FLV timestamps ffmpeg writes (its video starts 23 ms after its audio).
  Expect a skew of about +7 ms (audio late), well inside the bound."""

import time

import numpy as np

import harness
from harness import E2ETestCase, report, wait_for
from whep_viewer import WhepViewer

FPS = 30
VIDEO_CLOCK = 90000
AUDIO_CLOCK = 48000
BOUND_S = 0.080
MIN_PAIRS = 6
# One white frame per second (t mod 1 < 0.03 selects only the frame at t = k at 30 fps)
# and a 100 ms 1 kHz burst starting at the same instants, 0.8 of full scale.
VIDEO_SOURCE = (f"color=black:s=640x360:r={FPS},"
                "drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='lt(mod(t,1),0.03)'")
AUDIO_SOURCE = "aevalsrc='if(lt(mod(t,1),0.1),0.8*sin(2*PI*1000*t),0)':s=44100:c=mono"
FLASH_LUMA = 128        # black is 16, white 235 (limited range)
ONSET_LEVEL = 0.25 * 0.8 * 32767  # |sample| above a quarter of the burst's amplitude
QUIET_BEFORE_S = 0.5    # an onset follows at least this much silence (the burst is 0.1 s)


def anchor_cmd(url: str, seconds: float) -> list[str]:
    return ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re",
            "-f", "lavfi", "-i", VIDEO_SOURCE, "-f", "lavfi", "-i", AUDIO_SOURCE,
            "-t", str(seconds),
            "-c:v", "libx264", "-profile:v", "baseline", "-bf", "0", "-preset", "veryfast",
            "-tune", "zerolatency", "-g", str(FPS), "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "96k", "-f", "flv", url]


# Probes run on the viewer's thread for each decoded frame: (when decoded, what matters).
def video_probe(frame):
    # yuv420p as one (h * 3/2, w) array: the first h rows are the luma plane.
    return time.monotonic(), float(frame.to_ndarray()[:frame.height].mean())


def audio_probe(frame):
    # aiortc's Opus frames are packed s16 stereo: (1, 2 * samples); keep the left channel.
    return time.monotonic(), frame.to_ndarray()[0, 0::2].astype(np.int32)


def rtp_delta(a: int, b: int) -> int:
    """a − b on the 32-bit RTP timestamp circle."""
    return ((a - b + (1 << 31)) % (1 << 32)) - (1 << 31)


def flashes(stamps) -> list[tuple[int, float]]:
    """(RTP timestamp, decoded at) of each white frame that follows a dark one."""
    out, previous_bright = [], True  # the first frame seen is no edge
    for rtp, (decoded_at, luma) in sorted(stamps, key=lambda s: s[0]):
        bright = luma > FLASH_LUMA
        if bright and not previous_bright:
            out.append((rtp, decoded_at))
        previous_bright = bright
    return out


def onsets(stamps) -> list[tuple[int, float]]:
    """(RTP timestamp of the first loud sample, decoded at) of each tone burst after at
    least QUIET_BEFORE_S of silence, over consecutive Opus frames (a gap resets)."""
    out = []
    quiet = 0          # silent samples just before the current one
    expected = None    # RTP timestamp the next frame should start at
    for rtp, (decoded_at, samples) in sorted(stamps, key=lambda s: s[0]):
        if expected is not None and rtp_delta(rtp, expected) != 0:
            quiet = 0
        expected = (rtp + len(samples)) % (1 << 32)
        loud = np.flatnonzero(np.abs(samples) > ONSET_LEVEL)
        position = 0
        for i in loud:
            quiet += int(i) - position
            if quiet >= QUIET_BEFORE_S * AUDIO_CLOCK:
                out.append(((rtp + int(i)) % (1 << 32), decoded_at))
            quiet, position = 0, int(i) + 1
        quiet += len(samples) - position
    return out


def to_ntp(rtp: int, decoded_at: float, reports, clock: int):
    """Sender NTP seconds of an RTP timestamp, by the latest SR received before the frame
    was decoded; None before the first SR."""
    sr = None
    for r in reports:
        if r.arrived <= decoded_at:
            sr = r
    if sr is None:
        return None
    return sr.ntp_seconds + rtp_delta(rtp, sr.rtp_timestamp) / clock


def sr_line_spread_ms(reports, clock: int) -> float:
    """How far the SRs of one SSRC stray from one NTP ↔ RTP line (ms): 0 for a sender
    whose clocks do not drift and whose pairs are exact."""
    if len(reports) < 2:
        return float("nan")
    first = reports[0]
    return 1000 * max(abs((r.ntp_seconds - first.ntp_seconds)
                          - rtp_delta(r.rtp_timestamp, first.rtp_timestamp) / clock) for r in reports)


class Analysis:
    def __init__(self, viewer: WhepViewer):
        reports = list(viewer.sender_reports)
        self.video_srs = [r for r in reports if r.kind == "video"]
        self.audio_srs = [r for r in reports if r.kind == "audio"]
        self.flashes = flashes(list(viewer.frame_stamps))
        self.onsets = onsets(list(viewer.audio_stamps))
        self.video_ntp = [t for t in (to_ntp(rtp, at, self.video_srs, VIDEO_CLOCK) for rtp, at in self.flashes)
                          if t is not None]
        self.audio_ntp = [t for t in (to_ntp(rtp, at, self.audio_srs, AUDIO_CLOCK) for rtp, at in self.onsets)
                          if t is not None]
        # Each flash with the tone onset nearest to it on the NTP clock (the bursts are a
        # second apart, so anything within half of that is the same second's).
        self.pairs: list[tuple[float, float]] = []
        for v in self.video_ntp:
            a = min(self.audio_ntp, key=lambda t: abs(t - v), default=None)
            if a is not None and abs(a - v) < 0.5:
                self.pairs.append((v, a))

    @property
    def skews_ms(self) -> list[float]:
        return [1000 * (a - v) for v, a in self.pairs]  # > 0: the audio is late


class WhepAvSyncTest(E2ETestCase):
    def test_flash_and_tone_burst_stay_within_80_ms(self):
        server = self.start_server()
        self.spawn(anchor_cmd(server.rtmp_publish_url(harness.key_of("demo")), 60), "anchor")
        server.wait_live("demo")

        viewer = WhepViewer(server.http_port, "demo", webrtc_port=server.ports["webrtc"],
                            frame_probe=video_probe, audio_probe=audio_probe,
                            record_sender_reports=True)
        self.addCleanup(viewer.close)
        viewer.start()
        viewer.wait_answered(15)
        self.assertEqual(viewer.status, 201)

        wait_for(lambda: {r.kind for r in viewer.sender_reports} == {"video", "audio"},
                 10, "RTCP sender reports for both the video and the audio SSRC")
        result = wait_for(lambda: (a := Analysis(viewer)) and len(a.pairs) >= MIN_PAIRS + 2 and a,
                          30, f"{MIN_PAIRS + 2} flash / tone-burst pairs on the SR clock")

        # Sanity: what was found is the anchor's pattern, one event per media second, so a
        # broken detector or a wrong SR mapping cannot pass by pairing noise.
        for name, times in (("flashes", result.video_ntp), ("tone onsets", result.audio_ntp)):
            gaps = np.diff(sorted(times))
            self.assertTrue(len(gaps) >= MIN_PAIRS, f"{name}: only {len(times)} found")
            self.assertTrue(np.all(np.abs(gaps - np.round(gaps)) < 0.01) and np.all(gaps > 0.5),
                            f"{name} are not whole seconds apart on the SR clock: {gaps}")
        self.assertGreater(len(result.video_srs), 2)
        self.assertGreater(len(result.audio_srs), 2)

        skews = result.skews_ms
        report(f"{len(skews)} flash/tone pairs, audio − video on the SR clock: "
               f"mean {np.mean(skews):+.1f} ms, max |skew| {np.max(np.abs(skews)):.1f} ms, "
               f"each {[round(s, 1) for s in skews]}")
        report(f"SRs: {len(result.video_srs)} video, {len(result.audio_srs)} audio; "
               f"spread around one NTP↔RTP line: video "
               f"{sr_line_spread_ms(result.video_srs, VIDEO_CLOCK):.2f} ms, audio "
               f"{sr_line_spread_ms(result.audio_srs, AUDIO_CLOCK):.2f} ms")
        self.assertGreaterEqual(len(skews), MIN_PAIRS)
        for s in skews:
            self.assertLessEqual(abs(s), BOUND_S * 1000, f"A/V skew {s:+.1f} ms > 80 ms; all: {skews}")


if __name__ == "__main__":
    harness.main()
