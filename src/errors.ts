/**
 * The API error hierarchy. Each error carries the HTTP status and the user-facing message that
 * ends up in the contract's error envelope `{"instance_id": …, "error": "<message>"}`.
 */
export class ApiError extends Error {
  /** HTTP status code the error maps to (also the VSI `error.data.code`). */
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

/** 400: the request is malformed or a field is invalid. */
export class BadRequest extends ApiError {
  constructor(message: string) {
    super(400, message);
    this.name = "BadRequest";
  }
}

/** 403: the caller is not allowed (allowlist). */
export class Forbidden extends ApiError {
  constructor(message = "forbidden") {
    super(403, message);
    this.name = "Forbidden";
  }
}

/** 404: the addressed resource does not exist. */
export class NotFound extends ApiError {
  constructor(message: string) {
    super(404, message);
    this.name = "NotFound";
  }
}

/** 409: the resource exists but its state does not allow the operation. */
export class Conflict extends ApiError {
  constructor(message: string) {
    super(409, message);
    this.name = "Conflict";
  }
}

/** 503: a dependency the operation needs is not configured or not running. */
export class ServiceUnavailable extends ApiError {
  constructor(message: string) {
    super(503, message);
    this.name = "ServiceUnavailable";
  }
}
