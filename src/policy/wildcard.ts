/**
 * IAM wildcard matching (`*` any run of characters, `?` exactly one), as IAM matches action names
 * and `Resource` ARNs. Case-sensitive: callers lower-case what IAM compares without case (actions).
 */

/**
 * Whether `text` matches `pattern`. Iterative with one backtrack point instead of a RegExp: a
 * regular expression built from a 40 KB pattern does not compile ("Regular expression too large"),
 * and `*a*a*a…` would backtrack exponentially.
 */
export function matchesWildcard(pattern: string, text: string): boolean {
  let patternIndex = 0;
  let textIndex = 0;
  let star = -1;
  let starTextIndex = 0;
  while (textIndex < text.length) {
    const wanted = pattern[patternIndex];
    if (wanted !== undefined && wanted !== '*' && (wanted === '?' || wanted === text[textIndex])) {
      patternIndex += 1;
      textIndex += 1;
    } else if (wanted === '*') {
      star = patternIndex;
      patternIndex += 1;
      starTextIndex = textIndex;
    } else if (star !== -1) {
      patternIndex = star + 1;
      starTextIndex += 1;
      textIndex = starTextIndex;
    } else {
      return false;
    }
  }
  while (pattern[patternIndex] === '*') patternIndex += 1;
  return patternIndex === pattern.length;
}
