// Clicks and impressions go back to the server (POST /api/v1/streams/{id}/events), which
// aggregates them for the merchants. Best effort: a refused or lost report is dropped.
export function reporter(streamId) {
  const url = `/api/v1/streams/${encodeURIComponent(streamId)}/events`;
  return (type, id) => {
    fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ type, id }),
      keepalive: true,
    }).catch(() => {});
  };
}
