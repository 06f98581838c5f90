// RFC 9457 problem+json, as every Brigade service answers errors, turned into one error type the pages show.

export interface FieldProblem {
  field: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  readonly errors: FieldProblem[];
  readonly extensions: Record<string, unknown>;

  constructor(init: {
    status: number;
    type?: string;
    title?: string;
    detail?: string;
    errors?: FieldProblem[];
    extensions?: Record<string, unknown>;
  }) {
    const title = init.title ?? `Request failed (${init.status})`;
    super(init.detail ? `${title}: ${init.detail}` : title);
    this.name = "ApiError";
    this.status = init.status;
    this.type = init.type ?? "about:blank";
    this.title = title;
    this.detail = init.detail ?? "";
    this.errors = init.errors ?? [];
    this.extensions = init.extensions ?? {};
  }

  /**
   * The message for one form field (`email`, or a nested `body.email`), if the server named it. A bare
   * "should match pattern '…'" says nothing to a person: `patternHint` says what the field wants.
   */
  forField(field: string, patternHint?: string): string | undefined {
    const message = this.errors.find((e) => lastSegment(e.field) === field)?.message;
    if (message && patternHint && /match pattern/i.test(message)) return patternHint;
    return message;
  }

  /** Problems that name no field the page shows: they go in the form's general message. */
  unmatched(fields: readonly string[]): FieldProblem[] {
    return this.errors.filter((e) => !fields.includes(lastSegment(e.field)));
  }

  get unreachable(): boolean {
    return this.status === 0 || this.status === 502 || this.status === 503 || this.status === 504;
  }
}

function lastSegment(field: string): string {
  const parts = field.split(/[.[\]/]+/).filter(Boolean);
  return parts[parts.length - 1] ?? field;
}

const KNOWN = new Set(["type", "title", "status", "detail", "errors", "instance"]);

function asString(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

function fieldProblems(value: unknown): FieldProblem[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item): FieldProblem[] => {
    if (typeof item !== "object" || item === null) return [];
    const rec = item as Record<string, unknown>;
    const message = asString(rec.message) ?? asString(rec.msg) ?? asString(rec.detail);
    if (!message) return [];
    const loc = Array.isArray(rec.loc) ? rec.loc.join(".") : undefined;
    return [{ field: asString(rec.field) ?? loc ?? "", message }];
  });
}

/** The ApiError a response body stands for; any body (problem+json, the originals' `{errors}`, text, nothing) works. */
export function parseProblem(status: number, body: unknown, statusText = ""): ApiError {
  if (typeof body === "object" && body !== null && !Array.isArray(body)) {
    const rec = body as Record<string, unknown>;
    const extensions: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rec)) if (!KNOWN.has(k)) extensions[k] = v;
    return new ApiError({
      status,
      type: asString(rec.type),
      title: asString(rec.title) ?? (statusText || undefined),
      detail: asString(rec.detail),
      errors: fieldProblems(rec.errors),
      extensions,
    });
  }
  const text = typeof body === "string" ? body.trim().slice(0, 300) : "";
  return new ApiError({ status, title: statusText || undefined, detail: text || undefined });
}

/** An error thrown by anything (fetch's TypeError when the network is down included) as an ApiError. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new ApiError({ status: 0, title: "The server cannot be reached", detail });
}
