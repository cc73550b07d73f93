import { api, data } from "@/api/client";

export interface Registration {
  email: string;
  password: string;
  displayName: string;
  setupCode: string;
}

/** The first account, made with the setup code Angie printed at her first start. */
export function register(form: Registration) {
  return data(
    api.POST("/api/auth/register", {
      body: {
        email: form.email,
        password: form.password,
        display_name: form.displayName,
        setup_code: form.setupCode.trim(),
      },
    }),
  );
}

export interface InvitedRegistration {
  email: string;
  password: string;
  displayName: string;
  inviteCode: string;
}

/** Another household member's account, made with the code from an admin's invite link. */
export function registerInvited(form: InvitedRegistration) {
  return data(
    api.POST("/api/auth/register", {
      body: {
        email: form.email,
        password: form.password,
        display_name: form.displayName,
        invite_code: form.inviteCode,
      },
    }),
  );
}
