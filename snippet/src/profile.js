// The on-device profile (kept only with personalization consent). Pure functions on
// plain objects so the runtime decides when (and whether) to store.

export const SESSION_GAP_MS = 30 * 60 * 1000;
const MAX_VIEWED = 50;
const MAX_EXPOSURES = 50;

export function uuid() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  // randomUUID needs a secure context; getRandomValues does not.
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// The device proof: 32 random bytes, base64url without padding (43 characters). Made
// with the visitor id, it lets this device (and only it) export or erase what the
// server holds for that id, even without a token.
export function newSecret() {
  const b = globalThis.crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function newProfile(visitorId, nowIso) {
  return {
    visitor_id: visitorId, visits: 0, pageviews: 0, cart_items: 0, purchases: 0,
    first_seen: nowIso, last_seen: nowIso,
    session: { id: uuid(), started: nowIso, exposures: 0 },
    exposures: {}, assignments: {}, viewed: [], traits: {},
  };
}

// A page view: a new session after 30 idle minutes counts a new visit.
export function onPageView(p, nowIso, props) {
  const last = Date.parse(p.last_seen || "") || 0;
  if (!p.visits || Date.parse(nowIso) - last > SESSION_GAP_MS) {
    p.visits = (p.visits | 0) + 1;
    p.session = { id: uuid(), started: nowIso, exposures: 0 };
  }
  p.pageviews = (p.pageviews | 0) + 1;
  p.last_seen = nowIso;
  if (props && props.item_id != null) addViewed(p, props.item_id);
  return p;
}

export function addViewed(p, id) {
  const v = (p.viewed || []).filter((x) => x !== String(id));
  v.unshift(String(id));
  p.viewed = v.slice(0, MAX_VIEWED);
}

export function onTrack(p, name, props, nowIso) {
  props = props || {};
  if (name === "add_to_cart") p.cart_items = (p.cart_items | 0) + (Number(props.quantity) > 0 ? Number(props.quantity) : 1);
  else if (name === "remove_from_cart") p.cart_items = Math.max(0, (p.cart_items | 0) - (Number(props.quantity) > 0 ? Number(props.quantity) : 1));
  else if (name === "purchase") { p.purchases = (p.purchases | 0) + 1; p.cart_items = 0; }
  else if (name === "view_item" && props.id != null) addViewed(p, props.id);
  p.last_seen = nowIso;
  return p;
}

export function onExposure(p, experience, nowIso) {
  const list = (p.exposures[experience] || []).concat(nowIso);
  p.exposures[experience] = list.slice(-MAX_EXPOSURES);
  p.session.exposures = (p.session.exposures | 0) + 1;
}
