// A typed use of every call and payload, as an app would write it (not shipped). If a
// declaration is missing or wrong, `tsc --noEmit -p snippet/types/tsconfig.json` fails.
import perso, { perso as named, sanitizeHtml, VERSION } from "@perso/browser";
import type { DecisionDetail, Reason, ReadyResult, SlotDecision, SlotState, StateDetail } from "@perso/browser";
import { usePersoSlot, usePersoState } from "@perso/browser/react";
import type { PersoSlotState } from "@perso/browser/react";

const same: typeof perso = named;
const version: string = VERSION + same.version;

perso
  .init({ site: "demo-shop", cdn: "https://cdn.example.com", api: "https://api.example.com", hide: 300, apply: "none" })
  .consent({ analytics: true, personalization: true })
  .track("add_to_cart", { id: "sku-1", quantity: 1 })
  .track("purchase", { value: 129.9, items: ["sku-1", { id: 2 }] })
  .identify("customer-42", { first_name: "Ana" })
  .set({ plan: "gold" })
  .page({ item_id: "sku-1" })
  .shown("banner")
  .debug(true)
  .debug(false)
  .reset();
perso.push(["track", "purchase", { value: 10 }]);
perso.push(["shown", "banner"]);

const onDecision = (detail: DecisionDetail): void => {
  const source: "cache" | "edge" | "worker" = detail.source;
  for (const d of detail.decisions) {
    const reason: Reason | null = d.reason;
    const text: string | undefined = d.content?.text;
    const items = d.content?.recommend?.items.map((i) => i.id);
    console.log(source, d.slot, d.experience, d.variant, reason, text, items, detail.data[d.slot], detail.journey, detail.view);
  }
};
perso.on("decision", onDecision).off("decision", onDecision);
perso.on("ready", (r: ReadyResult) => { if (r.ok) console.log(r.decisions.length); else console.log(r.error); });
perso.ready((r) => console.log(r.ok));
document.addEventListener("perso:decision", (e) => console.log(e.detail.version));

const banner: SlotDecision | null = perso.get("banner");
if (banner && banner.reason === "holdout") console.log("held out");
const html: string = sanitizeHtml(banner?.content?.html ?? "");

const hero: SlotState = perso.state("hero");
const heroView: string | null = hero.view;
if (!hero.pending && hero.decision === null) console.log("the default", heroView);
const onState = (s: StateDetail): void => console.log(s.view, s.pending);
perso.on("state", onState).off("state", onState);
perso.push(["on", "state", onState]);

export function Banner(): string {
  const d = usePersoSlot("banner", { shown: true });
  const manual = usePersoSlot("hero", { shown: false, perso });
  return d?.content?.text ?? manual?.content?.text ?? html + version;
}

export function Hero(): string {
  const s: PersoSlotState = usePersoState("hero", { shown: true });
  if (s.pending) return "";
  return s.decision?.content?.text ?? "Welcome";
}
