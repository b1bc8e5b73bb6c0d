// /watch/{id}: the viewer page. ?transport=webrtc|hls pins one transport, ?ice=relay
// allows only TURN relays (none exist), which makes ICE fail as on a UDP-blocked network.
import { el, streamIdFromPath } from "./dom.js";
import { Player } from "./player.js";

const params = new URLSearchParams(location.search);
const streamId = streamIdFromPath("/watch/");
const transport = ["webrtc", "hls"].includes(params.get("transport")) ? params.get("transport") : "auto";
document.title = `${streamId} · anchorcast`;
const app = document.getElementById("app");
const player = new Player(app, streamId, { transport, relayOnly: params.get("ice") === "relay" });
app.append(el("p", { class: "ac-footer", text: streamId }));
window.anchorcastPlayer = player; // for the browser tests and for debugging in DevTools
