// The networks' rules as the composer checks them while you type: the same limits the
// scheduler enforces (GET /v1/networks, from siar.connectors.rules), counted the way each
// network counts — code points, grapheme clusters, or X's weights (twitter-text v3: URLs
// 23, code points outside the Latin-and-friends ranges 2, an emoji sequence 2). The
// scheduler's answer stays the final word; this is so nobody has to submit to find out.

const WEIGHT_ONE = [[0, 4351], [8192, 8205], [8208, 8223], [8242, 8247]];
const URL = /(?<![\w@$#./-])(?:https?:\/\/[^\s<>"]+|(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:com|net|org|io|co|ai|app|dev|me|info|biz|xyz|gov|edu|tv|ly|gl|link|news|blog|shop|store|site|online|tech|us|uk|de|fr|es|it|nl|be|ch|at|se|no|dk|fi|pl|pt|ie|eu|ca|au|nz|jp|kr|cn|in|br|mx|ar|ru|ua|tr|za|ng|ke|sg|hk|tw|id|my|ph|vn|th)\b(?::\d{1,5})?(?:\/[^\s<>"]*)?)/giu;
const URL_TRAILING = ".,;:!?'\")]}";
const EMOJI = /\p{Extended_Pictographic}|\p{Regional_Indicator}/u;
const HASHTAG = /(?<![\p{L}\p{N}_&])#([\p{L}\p{N}_]+)/gu;
const MENTION = /(?<![\p{L}\p{N}_@])@([\p{L}\p{N}_.]+(?:@[\p{L}\p{N}_.-]+)?)/gu;

const segmenter = typeof Intl.Segmenter === "function" ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : null;

function graphemes(text) {
  return segmenter ? [...segmenter.segment(text)].map((s) => s.segment) : [...text];
}

function weightOf(codePoint) {
  return WEIGHT_ONE.some(([first, last]) => codePoint >= first && codePoint <= last) ? 1 : 2;
}

function plainWeight(text) {
  let total = 0;
  for (const cluster of graphemes(text)) {
    // An emoji sequence (ZWJ family, skin tone, flag, keycap) weighs 2 however long.
    if (EMOJI.test(cluster) || cluster.includes("\u20E3")) total += 2;
    else for (const ch of cluster) total += weightOf(ch.codePointAt(0));
  }
  return total;
}

function urlSpans(text) {
  const spans = [];
  for (const match of text.matchAll(URL)) {
    let end = match.index + match[0].length;
    while (end > match.index && URL_TRAILING.includes(text[end - 1])) end -= 1;
    if (end > match.index) spans.push([match.index, end]);
  }
  return spans;
}

/** How long `rules.network` counts `text`. */
export function measure(text, rules) {
  const value = text.normalize("NFC");
  if (rules.counting === "graphemes") return graphemes(value).length;
  if (rules.counting !== "twitter_text") return [...value].length;
  let total = 0;
  let position = 0;
  for (const [start, end] of urlSpans(value)) {
    total += plainWeight(value.slice(position, start)) + (rules.url_length || 23);
    position = end;
  }
  return total + plainWeight(value.slice(position));
}

function mediaProblems(rules, items, t) {
  const found = [];
  const name = rules.display_name;
  if (rules.requires_media && !items.length) found.push({ rule: "media.required", message: t("composer.rule.media-required", { name }) });
  if (items.length > rules.max_media) {
    found.push({ rule: "media.count", message: t("composer.rule.media-count", { name, max: rules.max_media, count: items.length }) });
  }
  items.forEach((item) => {
    const limits = item.kind === "video" ? rules.video : rules.image;
    if (!limits) {
      found.push({ rule: `media.${item.kind}`, message: t("composer.rule.media-kind", { name, kind: item.kind }) });
      return;
    }
    if (!limits.mime_types.includes(item.mime_type)) {
      found.push({ rule: "media.type", message: t("composer.rule.media-type", { name, file: item.filename, type: item.mime_type }) });
    }
    if (item.size_bytes > limits.max_bytes) {
      found.push({ rule: "media.size", message: t("composer.rule.media-size", { name, file: item.filename, max: (limits.max_bytes / 1_048_576).toFixed(0) }) });
    }
    if (item.width && item.height) {
      const aspect = item.width / item.height;
      if ((limits.min_aspect && aspect < limits.min_aspect - 1e-3) || (limits.max_aspect && aspect > limits.max_aspect + 1e-3)) {
        found.push({ rule: "media.aspect_ratio", message: t("composer.rule.media-aspect", { name, file: item.filename }) });
      }
    }
    if (item.duration_s != null && limits.max_duration_s && item.duration_s > limits.max_duration_s) {
      found.push({ rule: "media.duration", message: t("composer.rule.media-duration", { name, file: item.filename, max: limits.max_duration_s }) });
    }
  });
  return found;
}

/**
 * What `rules` says about a post of `text` with `items` (library media): the length, the
 * limit and every broken rule as {rule, message} in the user's language.
 */
export function check(rules, text, items, t) {
  const length = measure(text, rules);
  const name = rules.display_name;
  const found = [];
  if (length > rules.max_text_chars) {
    found.push({ rule: "text.length", message: t("composer.rule.length", { name, max: rules.max_text_chars, count: length }) });
  }
  const hashtags = [...text.matchAll(HASHTAG)].length;
  if (rules.max_hashtags != null && hashtags > rules.max_hashtags) {
    found.push({ rule: "text.hashtags", message: t("composer.rule.hashtags", { name, max: rules.max_hashtags, count: hashtags }) });
  }
  const mentions = [...text.matchAll(MENTION)].length;
  if (rules.max_mentions != null && mentions > rules.max_mentions) {
    found.push({ rule: "text.mentions", message: t("composer.rule.mentions", { name, max: rules.max_mentions, count: mentions }) });
  }
  return { length, max: rules.max_text_chars, problems: [...found, ...mediaProblems(rules, items, t)] };
}

/** Which form field a broken rule belongs beside: the text (or a network's own), media,
 * the variant's format, title or first comment, or its thread's parts. */
export function fieldForRule(rule, network, variants) {
  if (rule.startsWith("media")) return "media_ids";
  const part = rule.split(".")[0];
  if (part === "thread") return `thread.${network}`;
  if (["format", "title", "first_comment"].includes(part)) return `${part}:${network}`;
  return variants.has(network) ? `variant.${network}` : "text";
}
