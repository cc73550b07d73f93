import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, data, type Schemas } from "@/api/client";

export type Interview = Schemas["InterviewOut"];
export type Topic = Schemas["TopicOut"];
export type Question = Schemas["QuestionOut"];
/** Answers by topic, then question key; lists as one text split by ";" (as `angie setup`). */
export type Answers = Record<string, Record<string, string>>;

/** The setup interview: Angie's questions, their defaults, and the topics already answered. */
export function useInterview() {
  return useQuery({ queryKey: ["onboarding"], queryFn: () => data(api.GET("/api/onboarding")) });
}

export function useAnswer() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (answers: Answers) => data(api.POST("/api/onboarding", { body: { answers } })),
    onSuccess: (interview) => {
      client.setQueryData(["onboarding"], interview);
      void client.invalidateQueries({ queryKey: ["me"] });
      void client.invalidateQueries({ queryKey: ["prompts"] });
    },
  });
}

/** A default as the interview shows it: a list joined by "; ", as `angie setup` shows it. */
export function shown(value: Question["default"]): string {
  return Array.isArray(value) ? value.join("; ") : value;
}
