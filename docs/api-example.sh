#!/usr/bin/env bash
# Launches a batch through Art Factory's REST API, waits for it, and downloads every image.
# Needs curl and jq.
#
#   ART_FACTORY_URL=https://studio.example.net ART_FACTORY_TOKEN=aft_… \
#     docs/api-example.sh "Holiday cards" "a {red|green} fox in the snow, woodcut" ./cards
#
# The token comes from Settings → API tokens ("Full access" to launch). The project is made when
# there is none of that name. The whole API: $ART_FACTORY_URL/api/v1/docs/
set -euo pipefail

url="${ART_FACTORY_URL:-http://127.0.0.1:3000}"
project_name="${1:?usage: api-example.sh PROJECT PROMPT [OUT_DIR]}"
prompt="${2:?usage: api-example.sh PROJECT PROMPT [OUT_DIR]}"
out="${3:-.}"
provider="${ART_FACTORY_PROVIDER:-local}"
model="${ART_FACTORY_MODEL:-waves}"

# One request; fails with the API's own explanation (application/problem+json) on an error.
api() {
  local method="$1" path="$2"; shift 2
  local auth=()
  [ -n "${ART_FACTORY_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $ART_FACTORY_TOKEN")
  local body status
  body="$(curl -sS -X "$method" "${auth[@]}" -H 'Accept: application/json' \
    -w '\n%{http_code}' "$@" "$url/api/v1$path")"
  status="${body##*$'\n'}"; body="${body%$'\n'*}"
  if [ "$status" -ge 400 ]; then
    echo "error: $method $path answered $status: $(jq -r '.detail // .' <<<"$body" 2>/dev/null || echo "$body")" >&2
    jq -r '.errors[]? | "  \(.field): \(.message)"' <<<"$body" >&2 2>/dev/null || true
    return 1
  fi
  printf '%s' "$body"
}

# The project: found by name, or made.
project_id="$(api GET /projects | jq -r --arg n "$project_name" '.[] | select(.name == $n) | .id')"
if [ -z "$project_id" ]; then
  project_id="$(api POST /projects -H 'Content-Type: application/json' \
    -d "$(jq -n --arg n "$project_name" '{name: $n}')" | jq -r .id)"
fi

launch="$(jq -n --argjson p "$project_id" --arg prompt "$prompt" --arg provider "$provider" \
  --arg model "$model" '{project_id: $p, provider: $provider, model: $model, prompt: $prompt,
  params: {width: 512, height: 512}, count: 1}')"

# First the price and the prompts, nothing queued; then the launch itself.
api POST "/launches?dry_run=true" -H 'Content-Type: application/json' -d "$launch" |
  jq -r '"\(.items) images, estimate: \(.estimate.usd // "no price") — e.g. \(.prompts[0])"'
batch="$(api POST /launches -H 'Content-Type: application/json' -d "$launch" | jq -r .batch_id)"
echo "batch $batch queued"

# Wait until every job has finished.
while :; do
  summary="$(api GET "/batches/$batch")"
  left="$(jq '.counts.queued + .counts.running + .counts.retry_wait' <<<"$summary")"
  echo "batch $batch: $(jq -r '"\(.counts.succeeded) done, \(.counts.failed) failed"' <<<"$summary"), $left to go"
  [ "$left" -eq 0 ] && break
  sleep 2
done

# Download the results, a page at a time.
mkdir -p "$out"
cursor=""
while :; do
  page="$(api GET "/products?batch=$batch&limit=100${cursor:+&cursor=$cursor}")"
  jq -r '.products[] | "\(.id) \(.file_name)"' <<<"$page" | while read -r id name; do
    api GET "/products/$id/original" -o "$out/$name" >/dev/null
    echo "$out/$name"
  done
  cursor="$(jq -r '.next // empty' <<<"$page")"
  [ -z "$cursor" ] && break
done
