// Types of @perso/browser: the `perso` object that the snippet (window.perso) and the
// ES module (import { perso } from "@perso/browser") both install, and every payload it
// hands back. The runtime is snippet/src/index.js; tests/unit/test_snippet_package.py
// checks that this interface lists exactly the runtime's methods.

/** Why a slot got what it got (`edge.decide.REASONS`). For a default, the
 * reason of the candidate experience that came furthest. */
export type Reason =
  | "matched"
  | "no_match"
  | "holdout"
  | "schedule"
  | "consent"
  | "audience"
  | "frequency_cap"
  | "policy"
  | "coverage"
  | "slot_taken"
  | "no_recommendations"
  | "error";

/** One item of a `recommend` list: the catalog's fields for it. */
export interface RecommendedItem {
  id: string;
  title?: string;
  url?: string;
  image?: string;
  price?: string | number;
  [field: string]: unknown;
}

/** What a variant puts in its slot. Several kinds may be combined (not text with html;
 * redirect stands alone). With apply: "dom" the runtime applies it; with apply: "none"
 * the app renders it. */
export interface Content {
  text?: string;
  /** The ruleset's HTML as written: with apply: "none" pass it through sanitizeHtml()
   * before putting it in the page. */
  html?: string;
  /** Attributes to set; null removes one. */
  attrs?: Record<string, string | null>;
  class?: { add?: string[]; remove?: string[] };
  hide?: true;
  /** A path, a query, or another site in full. Followed with apply: "dom" only. */
  redirect?: string;
  /** Never put in the page: for the app (also in DecisionDetail.data). */
  data?: unknown;
  recommend?: { items: RecommendedItem[]; title?: string; [field: string]: unknown };
}

/** One slot's decision, as `get(slot)` returns it and `DecisionDetail.decisions` lists it.
 * Frozen; the same object until the slot's decision changes. */
export interface SlotDecision {
  readonly slot: string;
  /** The slot's CSS selector in the ruleset. */
  readonly selector: string;
  /** null: the page's default. */
  readonly experience: string | null;
  readonly variant: string | null;
  /** null with an experience: a control variant (the default, counted as exposed). */
  readonly content: Content | null;
  /** null only for a decision replayed from a device cache written before decisions
   * carried their reason. */
  readonly reason: Reason | null;
  /** Only in a tab previewing an unpublished ruleset (`?perso_preview=<sha256>`, from
   * `perso deploy --preview`): that artifact's sha256. */
  readonly preview?: string;
}

/** The payload of on("decision", cb) and of the document's "perso:decision" event. */
export interface DecisionDetail {
  /** "cache": decided ahead of time, from this device's cache; "edge": the first view's
   * answer from the edge, applied by the snippet; "worker": decided now, on this device. */
  source: "cache" | "edge" | "worker";
  /** The ruleset version that decided. */
  version: string | null;
  decisions: SlotDecision[];
  /** Each slot's `data` content. */
  data: Record<string, unknown>;
  journey: string | null;
  /** The view's id (a new one per page load and per page()). */
  view: string;
}

/** What to render for a slot in the current view, as `state(slot)` answers it. Frozen;
 * the same object while nothing in it changes. */
export interface SlotState {
  /** This view's decision (`content: null`: decided, the default), or null: none yet,
   * none within the `hide` budget (render the default), or no such slot. */
  readonly decision: SlotDecision | null;
  /** true: this view is not decided yet and its `hide` budget runs (after page(), or
   * when the URL changed and page() has not come yet): hide the slot or render a
   * placeholder. Never true when the device cache decided the view at once. */
  readonly pending: boolean;
  /** The view's id (as DecisionDetail.view); null before init. */
  readonly view: string | null;
}

/** The payload of on("state", cb): a view started, was decided, or stopped waiting. */
export interface StateDetail {
  view: string;
  pending: boolean;
}

/** The payload of ready(cb): the first decision (a view decided ahead of time does not
 * wait for the worker), or why none will come. */
export type ReadyResult =
  | { ok: true; source: "cache" | "edge" | "worker"; version: string | null; decisions: SlotDecision[] }
  | { ok: false; source?: "cache" | "edge" | "worker" | null; error: string };

export interface InitOptions {
  /** The ruleset's site: lowercase letters, digits and dashes. */
  site: string;
  /** Base URL (or same-origin path) of the CDN tree `perso bundle` wrote. */
  cdn: string;
  /** Base URL (or same-origin path) of the event API; without it no event is sent. */
  api?: string;
  /** Longest time, in ms, slots marked to hide stay hidden on a first view, and a view
   * stays pending in state(slot) (300). */
  hide?: number;
  /** More selectors to hide on a first view (apply: "dom"). */
  hideSelectors?: string[];
  /** "dom" (default): the runtime changes the page. "none": it decides and reports
   * (get, on("decision")) and touches no element; exposures wait for shown(slot). */
  apply?: "dom" | "none";
  /** "edge" (default, with `api`): a view with nothing valid on the device is decided by
   * POST /v1/decide (the same core on the server; before consent the request carries no
   * identifier) within `hide` ms. "device": only the on-device worker decides. */
  decide?: "edge" | "device";
}

export interface Consent {
  analytics?: boolean;
  personalization?: boolean;
}

/**
 * Props of track(); `value` is a conversion's value (a track whose name is a goal the
 * ruleset declares is a conversion; before the runtime knows the goals, `purchase` or a
 * `value` makes one); `id`/`quantity`/`items` feed the profile.
 */
export interface TrackProps {
  value?: number;
  id?: string | number;
  quantity?: number;
  items?: Array<string | number | { id: string | number }>;
  [prop: string]: unknown;
}

export interface PageProps {
  /** The item this view shows (added to the profile's viewed items). */
  item_id?: string | number;
  [prop: string]: unknown;
}

export interface EventMap {
  decision: DecisionDetail;
  ready: ReadyResult;
  state: StateDetail;
}

export type Call =
  | ["init", InitOptions]
  | ["consent", Consent]
  | ["track", string, TrackProps?]
  | ["identify", string | null, Record<string, unknown>?]
  | ["set", Record<string, unknown>]
  | ["page", PageProps?]
  | ["on", "decision", (detail: DecisionDetail) => void]
  | ["on", "ready", (result: ReadyResult) => void]
  | ["on", "state", (detail: StateDetail) => void]
  | ["off", "decision", (detail: DecisionDetail) => void]
  | ["off", "ready", (result: ReadyResult) => void]
  | ["off", "state", (detail: StateDetail) => void]
  | ["ready", (result: ReadyResult) => void]
  | ["shown", string]
  | ["debug", boolean?]
  | ["reset"];

export interface Perso {
  /** The perso version. */
  readonly version: string;
  /** Start (once; a second call logs and is ignored). */
  init(options: InitOptions): Perso;
  /** Explicit consent; wins over IAB TCF and GPC. */
  consent(consent: Consent): Perso;
  track(name: string, props?: TrackProps): Perso;
  identify(userId: string | null, traits?: Record<string, unknown>): Perso;
  /** custom.* attributes for the rules; re-decides. */
  set(attrs: Record<string, unknown>): Perso;
  /** Single-page apps: a new view (signals read again, page_view, re-decided, exposures
   * counted anew). get() keeps the last decision until the new one arrives; state()
   * is pending until then (or decided at once from the device cache). */
  page(props?: PageProps): Perso;
  /** "decision": cb(detail) for every decision (also called at once with the last one).
   * "state": cb({view, pending}) when state() answers may have changed. */
  on<E extends keyof EventMap>(event: E, cb: (payload: EventMap[E]) => void): Perso;
  /** Removes a callback given to on(). */
  off<E extends keyof EventMap>(event: E, cb: (payload: EventMap[E]) => void): Perso;
  /** Once: after the first worker decision, or when the engine failed. */
  ready(cb: (result: ReadyResult) => void): Perso;
  /** The slot's current decision, or null before the first one (or an unknown slot). */
  get(slot: string): SlotDecision | null;
  /** What to render for the slot in this view: {decision, pending, view}. */
  state(slot: string): SlotState;
  /** The app displayed the slot's current decision (apply: "none"): its exposure is
   * recorded, once per view. */
  shown(slot: string): Perso;
  /** Opens (true, the default) or closes (false) the debugger in the page. */
  debug(on?: boolean): Perso;
  /** Forget this visitor on this device (storage wiped, page reverted, new id). */
  reset(): Perso;
  /** The array form, as with the stub: push(["track", "purchase", {value: 10}]). */
  push(call: Call): void;
}

/** The runtime installed by this import (window.perso too). Inert without a document. */
export declare const perso: Perso;
export default perso;
/** The package version. */
export declare const VERSION: string;
/** `html` content sanitized as apply: "dom" would put it in the page. */
export declare function sanitizeHtml(html: string): string;

// With the snippet instead of the import, `window.perso` is a queue until perso.js
// loads (only the Call forms, through push or the stub's methods), then a Perso.
declare global {
  interface DocumentEventMap {
    "perso:decision": CustomEvent<DecisionDetail>;
  }
}
