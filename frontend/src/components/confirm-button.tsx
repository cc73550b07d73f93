import * as Dialog from "@radix-ui/react-dialog";
import type { ComponentProps, ReactNode } from "react";

import { Button } from "@/components/ui/button";

/**
 * A button for something that cannot be undone: it asks first in an accessible alert dialog
 * rather than window.confirm, which blocks the page, cannot be styled and is skipped by some
 * browsers after a few prompts. `onConfirm` runs only when the person presses the confirming
 * button.
 *
 * The dialog is Radix's non-modal one on purpose: the modal variant (and shadcn's AlertDialog
 * over it) locks scrolling by injecting a <style> element, which Angie's strict
 * Content-Security-Policy refuses. The overlay below stands in for the modal backdrop, and
 * outside clicks do not dismiss it, as an alert dialog must not be closed by accident.
 */
export function ConfirmButton({
  title,
  description,
  confirmLabel,
  onConfirm,
  children,
  ...button
}: Omit<ComponentProps<typeof Button>, "onClick"> & {
  title: string;
  description: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
}) {
  return (
    <Dialog.Root modal={false}>
      <Dialog.Trigger asChild>
        <Button {...button}>{children}</Button>
      </Dialog.Trigger>
      <Dialog.Portal>
        <div aria-hidden className="fixed inset-0 z-50 bg-black/50" />
        <Dialog.Content
          role="alertdialog"
          onInteractOutside={(event) => event.preventDefault()}
          className="fixed left-1/2 top-1/2 z-50 grid w-[calc(100%-2rem)] max-w-md -translate-x-1/2 -translate-y-1/2 gap-4 rounded-lg border bg-background p-6 shadow-lg"
        >
          <Dialog.Title className="text-lg font-semibold">{title}</Dialog.Title>
          <Dialog.Description className="text-sm text-muted-foreground">{description}</Dialog.Description>
          <div className="flex flex-col-reverse gap-2 sm:flex-row sm:justify-end">
            <Dialog.Close asChild>
              <Button variant="outline" autoFocus>
                Keep it
              </Button>
            </Dialog.Close>
            <Dialog.Close asChild>
              <Button variant="destructive" onClick={onConfirm}>
                {confirmLabel}
              </Button>
            </Dialog.Close>
          </div>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
