namespace Prunerl.Experiments

open System
open Prunerl.Experiments.Metrics

/// A report's findings in words, and what makes them weak: the sentences after its tables (which group is
/// ahead, by how much, whether the intervals overlap) and the warnings rliable's authors give (Agarwal et al.
/// 2021, sec. 4: with few runs per task, point estimates mislead; report intervals), plus the pooling mistakes
/// that make an interval lie: one run counted twice, or runs of different settings in one group.
[<RequireQualifiedAccess>]
module Findings =

    /// Fewer runs than this per task in a group draw a warning: rliable's intervals need at least 3 runs per
    /// task to be more than a point (Agarwal et al. 2021, sec. 4, "few runs" regime: 3 to 10 runs per task).
    let minimumRunsPerTask = 3

    /// Config fields that do not change what a run learns, so runs may differ in them within one group: the
    /// run-folder format tag, the device, how often it checkpoints, where it was asked to stop early, the
    /// folder a compared run came from (`report A B`), and the prunerl version and source commit that wrote it.
    let bookkeeping = set [ "format"; "device"; "checkpoint_every"; "stop_at"; "threads"; "folder"; "prunerl_version"; "prunerl_commit" ]

    /// Whether two intervals share a point.
    let overlap (a: Interval) (b: Interval) : bool = a.Lower <= b.Upper && b.Lower <= a.Upper

    /// A number as reports print it: 3 significant digits.
    let private show (x: float) = x.ToString("G3", Globalization.CultureInfo.InvariantCulture)

    /// One comparison in words: "pruned, width=3 is ahead of dense, width=3 by 0.12 in IQM (0.61 against 0.49);
    /// the 95% intervals overlap; P(X > Y) = 0.67 [0.4, 0.9]."
    let comparison (candidate: GroupSummary) (baseline: GroupSummary) (probability: Interval) : string =
        let a, b = candidate.Iqm, baseline.Iqm
        let direction = if a.Estimate > b.Estimate then "is ahead of" elif a.Estimate < b.Estimate then "trails" else "ties with"
        let byHowMuch = if a.Estimate = b.Estimate then "" else sprintf " by %s" (show (abs (a.Estimate - b.Estimate)))
        let intervals =
            if a.Lower = a.Upper && b.Lower = b.Upper then "the intervals are single points (one run per task): the data cannot separate them yet"
            elif overlap a b then "the 95% intervals overlap, so the data do not separate them"
            else "the 95% intervals do not overlap"
        sprintf "**%s** %s **%s**%s in IQM (%s against %s); %s; P(X > Y) = %s [%s, %s]."
            (Report.label candidate.Group) direction (Report.label baseline.Group) byHowMuch (show a.Estimate) (show b.Estimate)
            intervals (show probability.Estimate) (show probability.Lower) (show probability.Upper)

    /// The findings: one sentence per compared pair (each candidate against its dense group), in the order of
    /// the improvements; when no pair is compared, which group has the highest IQM and whether its interval
    /// overlaps the next one's.
    let sentences (summaries: GroupSummary list) (improvements: Improvement list) : string list =
        let find (group: Group) = summaries |> List.tryFind (fun s -> s.Group = group)
        let pairs =
            improvements
            |> List.choose (fun i ->
                match find i.Candidate, find i.Baseline with
                | Some c, Some b -> Some(comparison c b i.Probability)
                | _ -> None)
        if not pairs.IsEmpty then pairs
        else
            match summaries |> List.sortByDescending (fun s -> s.Iqm.Estimate) with
            | best :: next :: _ ->
                [ sprintf "**%s** has the highest IQM (%s), %s above **%s** (%s); %s."
                      (Report.label best.Group) (show best.Iqm.Estimate) (show (best.Iqm.Estimate - next.Iqm.Estimate))
                      (Report.label next.Group) (show next.Iqm.Estimate)
                      (if overlap best.Iqm next.Iqm then "their 95% intervals overlap" else "their 95% intervals do not overlap") ]
            | _ -> []

    /// Groups with fewer than minimumRunsPerTask runs on some task: (group label, task, runs).
    let thinGroups (keys: string list) (scored: ScoredRun list) : (string * string * int) list =
        scored
        |> List.countBy (fun s -> Report.groupOf keys s.Run, s.Env)
        |> List.filter (fun (_, n) -> n < minimumRunsPerTask)
        |> List.sortWith (fun ((g1, e1), _) ((g2, e2), _) -> match Report.compareGroups g1 g2 with 0 -> String.CompareOrdinal(e1, e2) | c -> c)
        |> List.map (fun ((group, env), n) -> Report.label group, env, n)

    /// Sets of runs whose configs are identical, seed included: pooling them counts one run several times.
    let duplicates (runs: Run list) : string list list =
        runs
        |> List.groupBy (fun r -> r.Config |> Map.filter (fun k _ -> not (bookkeeping.Contains k)))
        |> List.filter (fun (_, members) -> members.Length > 1)
        |> List.map (fun (_, members) -> members |> List.map (fun r -> r.Id) |> List.sort)
        |> List.sort

    /// Settings that differ between runs of one group on one task, where they should be equal: every config field
    /// but the seed, the task, the grouping keys, bookkeeping and a lottery run's ticket (the gmp run of its own seed
    /// and task: it differs as the seed does) (a kind's fields are not free: pruned runs at 90% and 95% in one group
    /// are a mix). Each entry: (group label, task, field, the distinct values).
    let mixedSettings (keys: string list) (runs: Run list) : (string * string * string * string list) list =
        let free = set [ "seed"; "env"; "ticket" ] + bookkeeping + set keys
        runs
        |> List.groupBy (fun r -> Report.groupOf keys r, Report.env r)
        |> List.sortWith (fun ((g1, e1), _) ((g2, e2), _) -> match Report.compareGroups g1 g2 with 0 -> String.CompareOrdinal(e1, e2) | c -> c)
        |> List.collect (fun ((group, env), members) ->
            let fields = members |> List.collect (fun r -> r.Config |> Map.toList |> List.map fst) |> List.distinct |> List.sort
            [ for field in fields do
                if not (free.Contains field) then
                    let values = members |> List.map (fun r -> r.Config.TryFind field |> Option.defaultValue "-") |> List.distinct
                    if values.Length > 1 then Report.label group, env, field, values ])

    /// The warnings a report prints after its findings, one line each.
    let warnings (keys: string list) (scored: ScoredRun list) : string list =
        [ for group, thin in thinGroups keys scored |> List.groupBy (fun (group, _, _) -> group) ->
            // One line per group: "1 run on a, 2 on b" rather than a line per (group, task).
            let counts =
                thin
                |> List.mapi (fun i (_, env, n) ->
                    if i = 0 then sprintf "%d run%s on %s" n (if n = 1 then "" else "s") env else sprintf "%d on %s" n env)
            sprintf "%s has %s: fewer than %d runs per task make its interval little more than a point (rliable: report intervals, and use at least 3 runs per task)."
                group (String.concat ", " counts) minimumRunsPerTask
          for ids in duplicates (scored |> List.map (fun s -> s.Run)) ->
            sprintf "Runs %s have identical configs and seeds: pooling them counts one run %d times." (String.concat ", " ids) ids.Length ]

    /// The one-line refusal when a group mixes settings (None when none does): the first group and field that
    /// differ, and how to proceed.
    let mixedRefusal (keys: string list) (runs: Run list) : string option =
        match mixedSettings keys runs with
        | [] -> None
        | (group, env, field, values) :: rest ->
            Some(
                sprintf "group '%s' on %s mixes runs with different %s (%s)%s: group by it (--group-by ...,%s) or pass --allow-mixed to pool them anyway"
                    group env field (String.concat ", " values)
                    (if rest.IsEmpty then "" else sprintf " and %d more such difference%s" rest.Length (if rest.Length = 1 then "" else "s"))
                    field)
