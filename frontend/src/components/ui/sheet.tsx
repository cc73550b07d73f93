import * as Dialog from "@radix-ui/react-dialog";
import { X } from "lucide-react";
import type { ComponentProps } from "react";

import { cn } from "@/lib/utils";

/**
 * shadcn/ui's Sheet (a panel along an edge of the screen) over Radix's dialog, kept non-modal:
 * the page beside it stays readable and usable while the panel is open (clicks and focus outside
 * do not close it; Escape and its close button do). Non-modal also because the modal variant
 * locks scrolling with an injected <style>, which Angie's Content-Security-Policy refuses.
 */
export function Sheet(props: Omit<ComponentProps<typeof Dialog.Root>, "modal">) {
  return <Dialog.Root modal={false} {...props} />;
}

export const SheetTrigger = Dialog.Trigger;
export const SheetClose = Dialog.Close;

export function SheetContent({
  className,
  children,
  closeLabel = "Close",
  ...props
}: ComponentProps<typeof Dialog.Content> & { closeLabel?: string }) {
  return (
    <Dialog.Portal>
      <Dialog.Content
        onInteractOutside={(event) => event.preventDefault()}
        className={cn(
          "fixed inset-y-0 right-0 z-40 flex h-dvh w-full flex-col gap-3 border-l bg-background p-4 text-foreground shadow-lg sm:max-w-md",
          className,
        )}
        {...props}
      >
        {children}
        <Dialog.Close
          className="absolute right-3 top-3 rounded-md p-1 text-muted-foreground hover:bg-accent hover:text-accent-foreground focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring"
          aria-label={closeLabel}
        >
          <X className="size-4" aria-hidden />
        </Dialog.Close>
      </Dialog.Content>
    </Dialog.Portal>
  );
}

export function SheetTitle({ className, ...props }: ComponentProps<typeof Dialog.Title>) {
  return <Dialog.Title className={cn("pr-8 text-lg font-semibold", className)} {...props} />;
}

export function SheetDescription({ className, ...props }: ComponentProps<typeof Dialog.Description>) {
  return <Dialog.Description className={cn("text-sm text-muted-foreground", className)} {...props} />;
}
