import { useEffect, useState } from "react";

import { Button } from "@/components/ui/button";

import { TOUR_STARTED, tourKey as key } from "./tour-state";

/** The tour's steps: each highlights the main menu's link to a page. */
const STEPS = [
  { href: "/chat", title: "Chat", text: "Ask Angie anything here; her answer streams in as she writes it." },
  { href: "/approvals", title: "Approvals", text: "When Angie needs your yes before acting, the request waits here." },
  { href: "/agents", title: "Agents", text: "Angie's specialists: their prompts, tools and models." },
  { href: "/settings/profile", title: "Settings", text: "Your profile and the prompts your answers became, to change any time." },
];


/** A short tour of the main pages after the interview; dismissed for good, per person. */
export function Tour({ userId }: { userId: number }) {
  const [step, setStep] = useState(0);
  const [open, setOpen] = useState(() => localStorage.getItem(key(userId)) === "pending");
  const current = STEPS[step];

  // The shell (and this tour) stays on the page while the interview ends.
  useEffect(() => {
    const started = () => {
      if (localStorage.getItem(key(userId)) !== "pending") return;
      setStep(0);
      setOpen(true);
    };
    window.addEventListener(TOUR_STARTED, started);
    return () => window.removeEventListener(TOUR_STARTED, started);
  }, [userId]);

  useEffect(() => {
    if (!open || !current) return;
    const target = document.querySelector(`nav[aria-label="Main"] a[href="${current.href}"]`);
    target?.classList.add("ring-2", "ring-primary");
    return () => target?.classList.remove("ring-2", "ring-primary");
  }, [open, current]);

  if (!open || !current) return null;
  const close = () => {
    localStorage.setItem(key(userId), "done");
    setOpen(false);
  };
  const last = step === STEPS.length - 1;
  return (
    <section
      aria-label="Tour"
      aria-live="polite"
      className="fixed bottom-4 right-4 z-20 w-80 max-w-[calc(100vw-2rem)] rounded-lg border bg-background p-4 shadow-lg"
    >
      <p className="text-xs text-muted-foreground">
        Step {step + 1} of {STEPS.length}
      </p>
      <h2 className="font-semibold">{current.title}</h2>
      <p className="mt-1 text-sm">{current.text}</p>
      <div className="mt-3 flex justify-between gap-2">
        <Button variant="ghost" size="sm" onClick={close}>
          Skip the tour
        </Button>
        <Button size="sm" onClick={last ? close : () => setStep(step + 1)}>
          {last ? "Done" : "Next"}
        </Button>
      </div>
    </section>
  );
}
