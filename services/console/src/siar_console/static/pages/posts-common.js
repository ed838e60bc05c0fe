// What the calendar, the composer and the approvals page share: post statuses and the
// scheduler's problem types in both languages, and the workspace facts they all load.

export const POST_STRINGS = {
  en: {
    "post.status.draft": "Draft",
    "post.status.in_review": "Awaiting approval",
    "post.status.changes_requested": "Changes requested",
    "post.status.scheduled": "Scheduled",
    "post.status.dispatched": "Publishing",
    "post.status.published": "Published",
    "post.status.partially_published": "Partly published",
    "post.status.failed": "Failed",
    "post.review.submitted": "submitted it for approval",
    "post.review.approved": "approved it",
    "post.review.changes_requested": "requested changes",
    "post.review.commented": "commented",
    "post.review.edited": "edited it",
    "post.review.retried": "retried it",
    "post.you": "you",
    "problem.invalid-schedule": "That time cannot be used",
    "problem.network-rules": "The post breaks a network's rules",
    "problem.unknown-account": "That account is not connected",
    "problem.post-locked": "The post is already being published and can no longer change",
    "problem.wrong-state": "Not possible in the post's current state",
    "problem.time-passed": "The scheduled time has passed; choose a new one",
    "problem.label-exists": "A label with that name exists",
    "problem.bulk-refused": "Nothing was changed",
    "problem.media-too-large": "The file is too large",
    "problem.unsupported-media-type": "That type of file is not allowed",
    "problem.unknown-media": "That media item is not in the library",
    "problem.no-queue-slot": "The account has no posting schedule or no free slot in it (set one in Settings)",
    "problem.invalid-recurrence": "That repetition cannot be used",
  },
  id: {
    "post.status.draft": "Draf",
    "post.status.in_review": "Menunggu persetujuan",
    "post.status.changes_requested": "Perlu perubahan",
    "post.status.scheduled": "Terjadwal",
    "post.status.dispatched": "Sedang diterbitkan",
    "post.status.published": "Terbit",
    "post.status.partially_published": "Terbit sebagian",
    "post.status.failed": "Gagal",
    "post.review.submitted": "mengajukannya untuk disetujui",
    "post.review.approved": "menyetujuinya",
    "post.review.changes_requested": "meminta perubahan",
    "post.review.commented": "berkomentar",
    "post.review.edited": "mengubahnya",
    "post.review.retried": "mencobanya lagi",
    "post.you": "Anda",
    "problem.invalid-schedule": "Waktu itu tidak dapat dipakai",
    "problem.network-rules": "Postingan melanggar aturan jaringan",
    "problem.unknown-account": "Akun itu tidak terhubung",
    "problem.post-locked": "Postingan sedang diterbitkan dan tidak dapat diubah lagi",
    "problem.wrong-state": "Tidak mungkin dalam status postingan saat ini",
    "problem.time-passed": "Waktu terjadwal sudah lewat; pilih waktu baru",
    "problem.label-exists": "Label dengan nama itu sudah ada",
    "problem.bulk-refused": "Tidak ada yang diubah",
    "problem.media-too-large": "Berkas terlalu besar",
    "problem.unsupported-media-type": "Jenis berkas itu tidak diizinkan",
    "problem.unknown-media": "Media itu tidak ada di pustaka",
    "problem.no-queue-slot": "Akun tidak punya jadwal posting atau slot kosong (atur di Pengaturan)",
    "problem.invalid-recurrence": "Pengulangan itu tidak dapat dipakai",
  },
};

export const STATUSES = [
  "draft", "in_review", "changes_requested", "scheduled", "dispatched", "published", "partially_published", "failed",
];

/** Statuses in which a post can still be edited, moved or deleted (the scheduler's EDITABLE). */
export const EDITABLE = new Set(["draft", "in_review", "changes_requested", "scheduled"]);

/** Merge the shared strings into a page's own. */
export function withPostStrings(own) {
  return { en: { ...POST_STRINGS.en, ...own.en }, id: { ...POST_STRINGS.id, ...own.id } };
}

/** The workspace's accounts and labels, and who is signed in (each [] / null if refused). */
export async function loadBasics(ctx) {
  const [accounts, labels, me] = await Promise.all([
    ctx.can("accounts.read") ? ctx.api.get(ctx.wsPath("/accounts")).then((r) => r.items).catch(() => []) : [],
    ctx.api.get(ctx.wsPath("/labels")).then((r) => r.items).catch(() => []),
    ctx.api.get("/v1/me").catch(() => null),
  ]);
  return {
    accounts,
    accountsById: new Map(accounts.map((a) => [a.id, a])),
    labels,
    labelsById: new Map(labels.map((l) => [l.id, l])),
    me,
  };
}

/** "you" or a short form of a user id, for review history and the author filter. */
export function who(userId, basics, t) {
  if (basics.me && userId === basics.me.id) return t("post.you");
  return userId.length > 12 ? `${userId.slice(0, 12)}…` : userId;
}

/** A review step in words: "<who> <did what>" (unknown actions as the API names them). */
export function reviewAction(action, t) {
  const key = `post.review.${action}`;
  const text = t(key);
  return text === key ? action : text;
}
