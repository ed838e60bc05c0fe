"""Scheduler domain errors as problem+json."""

from __future__ import annotations

from siar.runtime.problems import ErrorMap
from siar_scheduler import errors

ERRORS: ErrorMap = {
    errors.PostNotFound: (404, "not-found", "Post not found"),
    errors.UnknownAccount: (422, "unknown-account", "Unknown account"),
    errors.InvalidSchedule: (422, "invalid-schedule", "Invalid schedule"),
    errors.PostLocked: (409, "post-locked", "Post can no longer change"),
    errors.BreaksNetworkRules: (422, "network-rules", "The post breaks a network's rules"),
    errors.WrongState: (409, "wrong-state", "Not possible in the post's current state"),
    errors.TimePassed: (409, "time-passed", "The scheduled time has passed"),
    errors.NotAllowed: (403, "forbidden", "Not allowed"),
    errors.LabelNotFound: (404, "not-found", "Label not found"),
    errors.LabelExists: (409, "label-exists", "A label with that name exists"),
    errors.NothingToRetry: (409, "nothing-to-retry", "Nothing to retry"),
    errors.BulkRefused: (409, "bulk-refused", "Nothing was changed"),
    errors.CsvUnreadable: (400, "csv-encoding", "The file is not UTF-8 CSV"),
    errors.CsvColumns: (400, "csv-columns", "The CSV's columns are wrong"),
    errors.CsvTooLarge: (413, "csv-too-large", "The CSV is too large"),
    errors.CsvRowsInvalid: (422, "csv-rows-invalid", "Some rows are invalid; nothing was imported"),
}
