"""What every table, view and column of a store means: the store documents itself.

The descriptions below are written into the store as DuckDB comments (``COMMENT ON``) when a
table is created, so that any tool reading the file sees them (``SELECT * FROM
duckdb_columns()`` in the DuckDB client), and ``docs/store.md`` is generated from a store with
``python -m whuffie.store.catalog STORE > docs/store.md``. A test checks that every table and
column of a store in which every analysis ran has a description, and that the committed
``docs/store.md`` is what the generator writes.
"""

from __future__ import annotations

import sys
from collections.abc import Container
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

#: The canonical tables, the bookkeeping tables and the interactions view: name -> (what it
#: holds, {column: meaning}).
TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "meta": ("Facts about the store itself.", {
        "key": "`schema_version` (the store's schema version), `created_by` (the Whuffie that "
               "migrated it last), `secret` (random; keys the pseudonyms of shared outputs and the "
               "fingerprints of erased actors) or `pseudonymised` (the fingerprint of the key of a "
               "pseudonymised store).",
        "value": "The value, as text.",
    }),
    "imports": ("One row per import of one file: what was read, stored and set aside.", {
        "import_id": "The import's number (1, 2, ...).",
        "path": "The file imported, as given.",
        "sha256": "SHA-256 of the file's bytes (as stored on disk, compressed or not).",
        "size": "Size of the file in bytes.",
        "format": "The reader that read it (`twarc2`, `mbox`...; see `whuffie formats`).",
        "options": "The reader options given (`-o key=value`), as JSON.",
        "status": "`running`, `complete`, `failed` or `interrupted` (killed before the end; a "
                  "re-run completes it).",
        "started_at": "When the import started (UTC).",
        "finished_at": "When it ended (UTC); null while running or when interrupted.",
        "duration_s": "Seconds it took.",
        "read": "Records read.",
        "stored": "Records stored (new to the store).",
        "duplicate": "Records already in the store (same `platform:native_id`), not stored again.",
        "quarantined": "Records that could not be read or mapped (see `quarantine`).",
        "error": "Why the import failed, when it did.",
        "version": "The Whuffie version that imported.",
    }),
    "actors": ("One row per actor (an account, a person, a blog, a node of a network file).", {
        "actor_id": "`platform:native_id`, unique.",
        "platform": "Where the actor lives (`twitter`, `mastodon`, `reddit`, `email`...).",
        "handle": "The handle or user name, when the source gives one.",
        "name": "The display name.",
        "url": "The profile's address.",
        "description": "The profile's description.",
        "created_at": "When the account was created (UTC).",
        "followers": "Followers, as the source counted them when collected.",
        "following": "Accounts followed, as collected.",
        "posts": "Posts, as the source counted them.",
        "verified": "Whether the platform marks the account verified.",
        "extra": "Other fields of the source, as JSON.",
        "import_id": "The import that stored the row.",
    }),
    "messages": ("One row per message: a post, reply, reshare, comment, e-mail, answer... "
                 "Stubs are messages known only by id and author (a replied-to post outside the "
                 "export).", {
        "message_id": "`platform:native_id`, unique.",
        "platform": "Where it was posted.",
        "actor_id": "Its author (`actors.actor_id`), when known.",
        "created_at": "When it was posted (UTC).",
        "utc_offset": "The offset from UTC the source gave, in minutes.",
        "kind": "`post`, `reply`, `reshare`, `quote`, `comment`, `email`, `question`, `answer`...",
        "text": "Its text (plain text; HTML removed).",
        "title": "Its title (submissions, e-mails, blog posts, questions).",
        "lang": "The language the platform tagged it with, when it did.",
        "reply_to": "The message it replies to.",
        "reshare_of": "The message it reshares (a retweet, a boost, a repost, a forward).",
        "quote_of": "The message it quotes.",
        "thread_id": "The conversation it belongs to (its root message, a topic, an e-mail thread).",
        "url": "Its address.",
        "likes": "Likes or favourites, as counted by the source when collected.",
        "reshares": "Reshares, as counted by the source.",
        "replies": "Replies, as counted by the source.",
        "quotes": "Quotes, as counted by the source.",
        "score": "The platform's score (Reddit, Stack Exchange).",
        "views": "Views, as counted by the source.",
        "is_stub": "True for a message known only by id (and author).",
        "extra": "Other fields of the source, as JSON (Twitter15's veracity `label`...).",
        "import_id": "The import that stored the row.",
    }),
    "mentions": ("Actors named in a message (@handles, `u/` names).", {
        "message_id": "The message.",
        "actor_id": "The actor mentioned.",
        "handle": "The handle as written.",
    }),
    "links": ("Hyperlinks in a message.", {
        "message_id": "The message.",
        "url": "The address linked to, as written.",
        "domain": "The registered domain of the normalised address (`youtube.com` for a `youtu.be` "
                  "link, `bbc.co.uk` for `www.bbc.co.uk`), else its host (an IP address); null "
                  "for an address that is not a web address.",
        "target_actor_id": "The actor the link points at, when it is a profile or a blog the store "
                           "knows (a `link` interaction).",
        "normalized_url": "The page's canonical address, one for the ways of writing it: no scheme, "
                          "`www.`, `m.` or `mobile.`, tracking parameters (`utm_*`, `fbclid`...), "
                          "fragment or trailing slash; YouTube videos as `youtube.com/watch?v=ID`, "
                          "tweets as `twitter.com/i/status/ID`. A non-web address is kept as "
                          "written.",
    }),
    "tags": ("Hashtags (and platform tags) of a message.", {
        "message_id": "The message.",
        "tag": "The tag, without `#`.",
    }),
    "recipients": ("Who an e-mail (or a direct message) was addressed to.", {
        "message_id": "The message.",
        "actor_id": "A recipient.",
        "role": "`to` or `cc`.",
    }),
    "ratings": ("Votes, likes, favourites, accepted answers and signed ratings of an actor or a "
                "message.", {
        "rating_id": "`platform:native_id`, unique.",
        "platform": "Where it was given.",
        "rater_id": "Who rated, when the source says.",
        "target_actor_id": "The actor rated (trust networks).",
        "target_message_id": "The message rated (a vote, a like).",
        "kind": "`upvote`, `downvote`, `like`, `favourite`, `accepted`, `rating`...",
        "value": "The rating's value (-10..10 on Bitcoin OTC; +1/-1 for votes).",
        "created_at": "When it was given (UTC).",
        "import_id": "The import that stored the row.",
    }),
    "ties": ("Edges of network files (edge lists, GML, cascade trees) that carry no message.", {
        "tie_id": "`platform:native_id`, unique.",
        "platform": "The network's name (`-o platform=...`).",
        "source_id": "The actor the tie starts from.",
        "target_id": "The actor it points at.",
        "kind": "Its interaction kind (`mention`, `reply`, `retweet`, `tie`...).",
        "weight": "Its weight (repetitions or strength).",
        "created_at": "When it happened (UTC), when the file says.",
        "directed": "False for an undirected tie (it counts both ways).",
        "import_id": "The import that stored the row.",
    }),
    "quarantine": ("Records that could not be read or mapped, or were stored without a value that "
                   "could not be trusted, with where and why.", {
        "quarantine_id": "A hash of where and why (a re-import adds nothing).",
        "import_id": "The import that met it.",
        "path": "The file.",
        "line": "The line (or record number) in the file.",
        "byte_offset": "The byte offset in the (decompressed) file.",
        "reason": "What is wrong, in one sentence.",
        "excerpt": "The beginning of the raw record.",
        "severity": "error: the record was left out; flag: stored without a value it could not "
                    "trust (e.g. a placeholder time); note: about the whole file.",
        "created_at": "When it was quarantined (UTC).",
    }),
    "erasures": ("One row per erasure (`whuffie forget`) and per retention prune (`whuffie prune`): "
                 "who or what went, and when; never what they wrote.", {
        "erasure_id": "The erasure's number (1, 2, ...).",
        "kind": "`actor` (an actor and every row about them) or `prune` (rows older than `cutoff`).",
        "subject": "For `actor`: a fingerprint of the actor id, keyed by the store's secret, so a "
                   "re-import leaves them out; the id itself is not kept.",
        "handle": "For `actor`: a fingerprint of their handle, keyed the same way, so a re-import "
                  "masks their `@handle` in other people's texts.",
        "messages": "For `actor`: fingerprints of the ids of their messages, so a re-import leaves "
                    "out the votes on them and points replies to them at a tombstone.",
        "cutoff": "For `prune`: rows dated before this time (UTC) were dropped.",
        "created_at": "When it was done (UTC).",
        "removed": "Rows removed, all tables together.",
        "version": "The Whuffie version that did it.",
    }),
    "runs": ("One row per analysis run: what ran, with what parameters, on what data.", {
        "run_id": "The run's number; result rows carry it.",
        "analysis": "What ran (`influence`, `niches`, `voice`...).",
        "params": "Every parameter of the run, the graph filters included, as JSON.",
        "seed": "The random seed, for analyses that draw random numbers.",
        "engine": "The engine that computed it (`embedded`).",
        "snapshot": "What the store held: the last import and the row counts of the main tables.",
        "created_at": "When the run was saved (UTC).",
        "duration_s": "Seconds it took.",
        "version": "The Whuffie version that ran it.",
        "fingerprint": "Hash of the analysis, parameters, inputs, snapshot and version: a request "
                       "with the same fingerprint reuses the run.",
        "params_key": "Hash of the analysis and parameters only: a newer run with the same key "
                      "supersedes this one (`whuffie runs --prune`).",
        "inputs": "The runs whose results this run read (e.g. `{\"voice\": 5}`), as JSON.",
        "summary": "The run's headline figures, as JSON.",
        "tables": "The result tables the run wrote, the main one first, as a JSON list.",
    }),
    "interactions": ("View: one row per act of attention, from the one who pays it to the one who "
                     "receives it (replies, reshares, quotes, mentions, links, e-mails, votes, "
                     "ratings, ties).", {
        "source": "Who paid attention (an actor id).",
        "target": "Who received it.",
        "kind": "`reply`, `reshare`, `quote`, `mention`, `link`, `email`, `vote`, `rating`, or "
                "a tie's kind.",
        "message_id": "The message behind it (the reply, the mention; for a vote the message voted "
                      "on).",
        "created_at": "When (UTC).",
        "platform": "Where.",
        "weight": "Its own weight (a tie's weight; 1 otherwise).",
        "value": "A rating's value.",
        "record_id": "The row it comes from (a message, rating or tie id).",
    }),
}

#: The result tables (``result_<name>``; every row also has ``run_id``): name -> (what it holds,
#: the analysis that writes it, {column: meaning}).
RESULTS: dict[str, tuple[str, str, dict[str, str]]] = {
    "influence": ("Every actor's influence on the attention graph.", "influence", {
        "actor_id": "The actor.",
        "rank": "Rank by PageRank (1 = most influential).",
        "pagerank": "Weighted PageRank: recognition by the recognised (sums to 1).",
        "recognition": "Weighted attention received (weighted in-degree).",
        "in_degree": "Distinct actors paying attention to them.",
        "attention": "Weighted attention they pay (weighted out-degree).",
        "activity": "Real messages they wrote in the graph's window and platforms.",
        "audience": "Distinct actors within two attention hops (who they impress, and who those "
                    "impress).",
        "audience_exact": "False when the audience is a HyperLogLog estimate (large graphs).",
        "coreness": "k-core number on the undirected graph.",
        "hub": "HITS hub score.",
        "authority": "HITS authority score.",
        "niche": "Their niche (Leiden), 0 the largest.",
        "niche_rank": "Rank by PageRank inside the niche.",
    }),
    "efluentials": ("The e-fluentials: the top share of actors by PageRank, each explained.",
                    "efluentials", {
        "actor_id": "The e-fluential.",
        "rank": "Rank by PageRank.",
        "pagerank": "PageRank.",
        "recognition": "Weighted attention received.",
        "recognisers": "Distinct actors paying attention to them.",
        "efluential_recognisers": "How many of those are e-fluentials.",
        "recognised_share": "Share of the attention received that comes from e-fluentials.",
        "pagerank_share": "Share of the PageRank that flows from e-fluentials.",
        "niche": "Their niche, when niches were given.",
        "niche_rank": "Rank inside the niche, when niches were given.",
        "explanation": "Who recognises them, in one sentence.",
    }),
    "efluential_recognisers": ("Evidence: every recogniser of every e-fluential.", "efluentials", {
        "actor_id": "The e-fluential.",
        "position": "1 = the strongest recogniser (heaviest weight, then best rank).",
        "recogniser": "The actor paying attention.",
        "weight": "Weighted attention given.",
        "interactions": "Interactions behind it (see `whuffie why`).",
        "recogniser_rank": "The recogniser's own rank by PageRank.",
        "recogniser_efluential": "Whether the recogniser is an e-fluential.",
    }),
    "pyramid_levels": ("Every actor's level on the influence pyramid in every window.", "pyramid", {
        "window_start": "The window (a week or a month) the level is for.",
        "actor_id": "The actor.",
        "activity": "Messages written in the window.",
        "recognition": "Weighted attention received in the window.",
        "level": "`amateur`, `enthusiast`, `wannabe` or `expert`.",
        "wannabe_cut": "The activity from which a regular was a wannabe in that window.",
        "expert_cut": "The recognition from which an actor was an expert in that window.",
    }),
    "pyramid_counts": ("Participants per level and moves, per window.", "pyramid", {
        "window_start": "The window.",
        "previous_start": "The window before it (null for the first).",
        "participants": "Actors active or recognised in the window.",
        "amateur": "Amateurs.",
        "enthusiast": "Enthusiasts.",
        "wannabe": "Wannabes.",
        "expert": "Experts.",
        "new": "Actors absent from the previous window.",
        "left": "Actors of the previous window absent from this one.",
        "up": "Actors who moved up a level.",
        "down": "Actors who moved down.",
        "wannabe_cut": "The wannabe cut of the window.",
        "expert_cut": "The expert cut of the window.",
    }),
    "pyramid_migration": ("The migration matrix between consecutive windows.", "pyramid", {
        "window_start": "The window.",
        "previous_start": "The window before it.",
        "from_level": "Level in the previous window (`new` when absent).",
        "to_level": "Level in this window (`left` when absent).",
        "actors": "How many actors made that move.",
    }),
    "pyramid_moves": ("Who moved, arrived or left between consecutive windows.", "pyramid", {
        "window_start": "The window.",
        "previous_start": "The window before it.",
        "actor_id": "The actor.",
        "from_level": "Level before (`new` when absent).",
        "to_level": "Level after (`left` when absent).",
        "move": "`up`, `down`, `new` or `left`.",
    }),
    "niches": ("One row per niche (community) of the attention graph.", "niches", {
        "niche": "The niche, 0 the largest.",
        "size": "Members.",
        "actor_share": "Share of the graph's actors.",
        "internal_weight": "Attention between members.",
        "external_weight": "Attention crossing the niche's border, both ways.",
        "cohesion": "internal / (internal + external).",
        "attention": "Attention received by members.",
        "attention_share": "Share of all attention received.",
        "top_voices": "Members with the highest PageRank.",
        "top_tags": "Tags most used by members.",
        "top_terms": "Terms most distinctive of the niche's messages.",
        "top_domains": "Sites (normalised domains) the most members link to.",
        "top_urls": "Pages (normalised addresses) the most members link to.",
        "messages": "Messages written by members.",
        "first_week": "First week with a message by a member.",
        "peak_week": "Busiest week.",
        "last_week": "Last week with a message.",
    }),
    "memberships": ("Every actor's niche and how they bridge niches.", "niches", {
        "actor_id": "The actor.",
        "niche": "Their niche.",
        "niche_rank": "Rank by PageRank inside the niche.",
        "pagerank": "PageRank.",
        "strength": "Attention weight, both directions.",
        "participation": "Participation coefficient: 0 = all attention inside the niche, towards 1 "
                         "= spread over many niches.",
        "betweenness": "Share of shortest paths through the actor (sampled on large graphs).",
        "bridges_to": "The other niches they share the most attention with.",
        "outside_weight": "Attention weight with other niches.",
    }),
    "niche_links": ("Pairs of niches by the attention between them.", "niches", {
        "niche_a": "The smaller niche number.",
        "niche_b": "The larger niche number.",
        "weight": "Attention between them, both ways.",
        "a_to_b": "Attention members of a pay to members of b.",
        "b_to_a": "Attention members of b pay to members of a.",
        "share": "Share of all attention crossing a niche border.",
        "edges": "Directed attention edges behind it.",
    }),
    "niche_activity": ("Messages per niche and week.", "niches", {
        "niche": "The niche.",
        "week": "The week (Monday, UTC).",
        "messages": "Messages written by members.",
    }),
    "niche_summary": ("The long tail of niche sizes, one row.", "niches", {
        "method": "`modularity` or `cpm`.",
        "resolution": "The Leiden resolution used.",
        "modularity": "Modularity of the partition.",
        "betweenness_exact": "False when betweenness was estimated from sampled sources.",
        "niches": "Number of niches.",
        "actors": "Actors.",
        "largest": "Members of the largest niche.",
        "largest_share": "Its share of the actors.",
        "median_size": "Median niche size.",
        "top10_niches": "How many niches the largest 10% are.",
        "top10_actor_share": "Share of actors they hold.",
        "small_niches": "Niches under 5 members.",
        "small_share": "Their share of the niches.",
        "small_actor_share": "Their share of the actors.",
        "singletons": "Niches of one actor.",
        "gini": "Gini coefficient of the sizes.",
    }),
    "voice_messages": ("Language, sentiment and concerns of every message with text.", "voice", {
        "message_id": "The message.",
        "lang": "Its language (ISO 639-1), null when unknown.",
        "lang_source": "`platform` (the source's tag) or `detected` (fastText).",
        "sentiment": "`positive`, `neutral` or `negative`.",
        "score": "The analyzer's score in [-1, 1].",
        "concerns": "The concerns it raises (environment, price, service...).",
        "analyzer": "The sentiment analyzer.",
        "analyzer_version": "Its version and lexicons.",
    }),
    "concerns": ("The concerns raised, most voiced first.", "concerns", {
        "concern": "The concern's id.",
        "label": "Its English label.",
        "messages": "Messages raising it.",
        "share": "Their share of the messages read.",
        "negative": "Share of those messages that are negative.",
        "mean_score": "Their mean sentiment score.",
        "authors": "Distinct authors raising it.",
        "example": "Its most negative message.",
        "excerpt": "The beginning of that message.",
    }),
    "buzz_episodes": ("Bursts: consecutive periods in which a key rose far above its baseline.",
                      "buzz", {
        "burst_id": "The burst.",
        "key": "The tag, term, concern or niche.",
        "start": "Its first period.",
        "end": "The start of its last period.",
        "peak": "The period of highest z.",
        "count": "Messages over the burst.",
        "expected": "Messages the baseline expected.",
        "excess": "count - expected.",
        "z": "The highest robust z-score.",
        "periods": "Periods it lasted.",
    }),
    "buzz_rising": ("What is rising now: bursts reaching the latest periods.", "buzz", {
        "key": "The tag, term, concern or niche.",
        "start": "Its first period.",
        "end": "The start of its last period.",
        "count": "Messages over the burst.",
        "expected": "Messages the baseline expected.",
        "excess": "count - expected.",
        "z": "The highest robust z-score.",
        "burst_id": "The burst (see `buzz_episodes`).",
    }),
    "buzz_volumes": ("Messages per period of every key that burst (zero-filled).", "buzz", {
        "key": "The key.",
        "period_start": "The period.",
        "count": "Messages of the key.",
        "total": "Messages of the period over all keys.",
    }),
    "buzz_evidence": ("Evidence: the messages that make each burst, most engaging first.", "buzz", {
        "burst_id": "The burst.",
        "key": "Its key.",
        "position": "1 = the most engaging message.",
        "message_id": "The message.",
        "created_at": "When it was posted.",
        "actor_id": "Its author.",
        "engagement": "Likes + reshares + replies, as counted by the source.",
    }),
    "inbox_inbound": ("Every inbound message to the brand, answered or not.", "inbox", {
        "message_id": "The inbound message.",
        "actor_id": "Its author.",
        "created_at": "When it was sent.",
        "via": "`reply`, `email` or `mention`: how it addressed the brand.",
        "answered": "Whether the brand answered it.",
        "first_answer_id": "The brand's first answer.",
        "response_seconds": "Seconds until that answer.",
        "sentiment": "Its sentiment (from the voice run).",
        "score": "Its sentiment score.",
        "author_influence": "The author's PageRank (from the influence run).",
        "author_reach": "The author's audience, else followers.",
        "priority": "(carry + negativity) / 2: who to answer first.",
    }),
    "inbox_outbound": ("Every post of the brand and the conversation it started.", "inbox", {
        "message_id": "The brand's post.",
        "actor_id": "The brand account that posted it.",
        "created_at": "When.",
        "replies": "Replies (the larger of the source's counter and what the store holds).",
        "reshares": "Reshares (likewise).",
        "likes": "Likes (likewise).",
        "conversation_rate": "Replies per 1,000 followers of the account.",
        "amplification_rate": "Reshares per 1,000 followers.",
        "applause_rate": "Likes per 1,000 followers.",
        "started_conversation": "Whether someone other than the brand replied.",
    }),
    "advocates": ("Advocates and detractors, weighted by how far they carry.", "advocates", {
        "actor_id": "The actor.",
        "handle": "Their handle.",
        "messages": "Their messages about the subject with a sentiment.",
        "positive": "Positive ones.",
        "negative": "Negative ones.",
        "neutral": "Neutral ones.",
        "mean_score": "Mean sentiment score.",
        "consistency": "Share of polar messages agreeing with the majority polarity.",
        "stance": "`detractor`, `advocate`, `mixed` or `neutral`.",
        "influence": "PageRank (from the influence run).",
        "reach": "Audience, else followers, else distinct interactors.",
        "weight": "|mean_score| x consistency x (1 + log10(1 + reach)) x (1 + influence percentile).",
        "evidence": "The messages that show the stance most clearly.",
    }),
    "cascades": ("One row per cascade (a tree of replies, reshares, quotes, links or an e-mail "
                 "thread).", "cascades", {
        "cascade": "The root message.",
        "root": "The root's author.",
        "size": "Distinct participants.",
        "messages": "Real messages in the tree.",
        "depth": "Largest depth (root 0).",
        "breadth": "Most messages at one depth.",
        "virality": "Structural virality: mean distance between two nodes of the tree.",
        "time_to_half_seconds": "When the cascade reached half its final size.",
        "valence": "The root's sentiment (from the voice run).",
        "label": "The source's label of the root (Twitter15's veracity).",
        "platform": "The root's platform.",
        "started": "When the root was posted (else the earliest message).",
    }),
    "cascade_nodes": ("Evidence: every message of every cascade, with its parent.", "cascades", {
        "cascade": "The root message.",
        "message_id": "The message.",
        "actor_id": "Its author.",
        "parent_id": "The message it passes on (null at the root).",
        "depth": "Its depth (root 0).",
        "created_at": "When it was posted.",
        "delay_seconds": "Seconds since the cascade started.",
        "stub": "Whether the root is a stub or absent from the store.",
        "efluential": "Whether the author is an e-fluential (from the efluentials run).",
    }),
    "branching_model": ("The branching process fitted on the cascades, per valence and role.",
                        "cascades", {
        "valence": "The experience told (or the source's label).",
        "role": "`efluential` or `ordinary` teller.",
        "offspring_mean": "People told per teller, on average.",
        "offspring_dispersion": "Negative binomial dispersion of that number.",
        "root_offspring_mean": "People told by the first teller.",
        "root_offspring_dispersion": "Its dispersion.",
        "delay_median_seconds": "Median delay before passing it on.",
        "root_delay_median_seconds": "Median delay after the first message.",
        "efluential_share": "Share of the people told who are e-fluentials.",
        "nodes": "Messages the group was fitted on.",
        "roots": "Cascades the group was fitted on.",
    }),
    "cascade_simulated": ("Cascades simulated from the fitted model, for observed-versus-fitted "
                          "plots.", "cascades", {
        "valence": "The valence simulated.",
        "size": "Participants of the simulated cascade.",
        "depth": "Its depth.",
    }),
    "advocate_forecasts": ("Expected reach of the top advocates and detractors under the fitted "
                           "model.", "cascades", {
        "actor_id": "The advocate or detractor.",
        "handle": "Their handle.",
        "stance": "`advocate` or `detractor`.",
        "valence": "The experience they tell.",
        "role": "`efluential` or `ordinary`.",
        "expected_reach": "People reached on average (null when the model never dies out: no finite mean).",
        "p5": "5th percentile of the reach.",
        "p95": "95th percentile (null when unbounded).",
        "survival": "Probability that word of mouth never dies out (0 below one person told per teller).",
    }),
    "spread_reached": ("A forecast: who is most likely reached from the first tellers.", "spread", {
        "actor_id": "The actor.",
        "share": "Share of the Monte-Carlo runs that reach them.",
    }),
    "seed_set": ("Whom to approach: the set the Monte-Carlo comparison finds best.", "seeds", {
        "position": "1 = the first to approach.",
        "actor_id": "The actor.",
        "method": "The method that chose the set (`imm`, `celf`, `degree`, `pagerank`...).",
    }),
    "seeds": ("IMM's seeds in order.", "seeds", {
        "position": "1 = the first to approach.",
        "node": "Node index in the diffusion graph.",
        "actor_id": "The actor.",
        "spread": "Expected people reached by the seeds up to this one.",
    }),
    "seed_comparison": ("The same number of seeds chosen other ways, by Monte-Carlo spread.",
                        "seeds", {
        "method": "`imm`, `celf`, `degree`, `pagerank`, `coreness` or `efluentials`.",
        "seeds": "The seeds it chose.",
        "k": "Seeds used.",
        "runs": "Monte-Carlo runs made (the same for every method; fewer than asked once every "
                "mean was known within half a percent).",
        "mean": "People reached on average.",
        "std": "Standard deviation.",
        "p5": "5th percentile.",
        "p95": "95th percentile.",
        "vs_best": "mean / the best method's mean.",
    }),
}

#: The column every result table has besides its own.
RUN_ID = "The run that wrote the row (`runs.run_id`)."


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def comment_statements(present: Container[tuple[str, str]] | None = None) -> list[str]:
    """``COMMENT ON`` statements documenting the canonical tables, the bookkeeping tables and views.

    ``present``: the ``(table, column)`` pairs a store has; the others are left out.

    Examples
    --------
    >>> comment_statements()[0]
    "COMMENT ON TABLE meta IS 'Facts about the store itself.'"
    >>> for statement in comment_statements({("links", "url")}):
    ...     print(statement)
    COMMENT ON TABLE links IS 'Hyperlinks in a message.'
    COMMENT ON COLUMN links.url IS 'The address linked to, as written.'
    """
    out = []
    for table, (what, columns) in TABLES.items():
        kept = [c for c in columns if present is None or (table, c) in present]
        if not kept:
            continue
        kind = "VIEW" if table == "interactions" else "TABLE"
        out.append(f"COMMENT ON {kind} {table} IS {_quote(what)}")
        out += [f"COMMENT ON COLUMN {table}.{c} IS {_quote(columns[c])}" for c in kept]
    return out


def describe_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Write the descriptions of the canonical and bookkeeping tables and views into the store.

    A migration step runs it after adding columns; columns a later step adds are described then.
    """
    present = set(con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE NOT internal").fetchall())
    for statement in comment_statements(present):
        con.execute(statement)


def comment_result(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Write the descriptions of ``result_<name>`` and its ``latest_<name>`` view into the store.

    Columns the catalog does not know are left without a comment (the catalog test finds them).
    """
    if name not in RESULTS:
        return
    what, analysis, columns = RESULTS[name]
    present = {r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ?", [f"result_{name}"]).fetchall()}
    for relation, kind, note in ((f"result_{name}", "TABLE", f" Written by every `{analysis}` run."),
                                 (f"latest_{name}", "VIEW", f" View: the newest `{analysis}` run's rows "
                                                           f"of `result_{name}`.")):
        con.execute(f"COMMENT ON {kind} {relation} IS {_quote(what + note)}")
        for column, text in columns.items():
            if column in present:
                con.execute(f"COMMENT ON COLUMN {relation}.{column} IS {_quote(text)}")
    con.execute(f"COMMENT ON COLUMN result_{name}.run_id IS {_quote(RUN_ID)}")


def markdown(con: duckdb.DuckDBPyConnection) -> str:
    """``docs/store.md``: every table, view and column of the store, with its type and meaning."""
    lines = [
        "# The store",
        "",
        "<!-- Generated by `python -m whuffie.store.catalog STORE > docs/store.md` from a store in which",
        "     every analysis ran; tests/test_catalog.py checks it. Do not edit by hand. -->",
        "",
        "A Whuffie store is one DuckDB file. It opens in the DuckDB command-line client and in any",
        "DuckDB from 1.0 on (`duckdb -readonly whuffie.duckdb`), and the descriptions below are in",
        "the file too: `SELECT table_name, column_name, comment FROM duckdb_columns()`.",
        "",
        "- **Canonical tables** hold what was imported; the `interactions` view derives every act of",
        "  attention from them.",
        "- **`runs`** lists every analysis run; each run writes rows, tagged with its `run_id`, to",
        "  `result_<name>` tables, and the `latest_<name>` view shows the newest run's rows without",
        "  `run_id`.",
        "",
    ]
    rows = con.execute("""
        SELECT table_name, 'table' AS kind, comment FROM duckdb_tables() WHERE NOT internal
        UNION ALL
        SELECT view_name, 'view', comment FROM duckdb_views() WHERE NOT internal AND NOT temporary
        ORDER BY 1""").fetchall()
    relations = {name: (kind, comment) for name, kind, comment in rows}
    order = [t for t in TABLES if t in relations]
    order += sorted(r for r in relations if r.startswith("result_"))
    order += sorted(r for r in relations if r.startswith("latest_"))
    order += sorted(r for r in relations if r not in order)
    for section, test in (("Canonical and bookkeeping tables", lambda r: r in TABLES),
                          ("Result tables", lambda r: r.startswith("result_")),
                          ("Latest-run views", lambda r: r.startswith("latest_")),
                          ("Other", lambda r: not (r in TABLES or r.startswith(("result_", "latest_"))))):
        chosen = [r for r in order if test(r)]
        if not chosen:
            continue
        lines += [f"## {section}", ""]
        for name in chosen:
            kind, comment = relations[name]
            lines += [f"### `{name}` ({kind})", "", comment or "(undocumented)", ""]
            if name.startswith("latest_"):
                continue
            lines += ["| column | type | meaning |", "|---|---|---|"]
            for column, dtype, text in con.execute(
                    "SELECT column_name, data_type, comment FROM duckdb_columns() WHERE table_name = ? "
                    "ORDER BY column_index", [name]).fetchall():
                lines.append(f"| `{column}` | {dtype} | {(text or '(undocumented)').replace('|', '/')} |")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> None:
    """Print ``docs/store.md`` for the store named on the command line."""
    import duckdb

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m whuffie.store.catalog STORE > docs/store.md")
    con = duckdb.connect(args[0], read_only=True)
    try:
        sys.stdout.write(markdown(con))
    finally:
        con.close()


if __name__ == "__main__":
    main()
