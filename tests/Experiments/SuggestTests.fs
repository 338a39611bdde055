/// "Did you mean ...?" (Suggest): distances counted by hand, the tolerance, and the closest name.
module Prunerl.Tests.SuggestTests

open Expecto
open Prunerl.Experiments

[<Tests>]
let tests =
    testList "suggestions" [
        test "the distance counts insertions, deletions, substitutions and neighbour swaps, ignoring case" {
            Expect.equal (Suggest.distance "sparsity" "sparsity") 0 "equal"
            Expect.equal (Suggest.distance "--sparsty" "--sparsity") 1 "one deletion"
            Expect.equal (Suggest.distance "trian" "train") 1 "one swap of neighbours"
            Expect.equal (Suggest.distance "kitten" "sitting") 3 "k->s, e->i, +g"
            Expect.equal (Suggest.distance "CartPole" "cartpole") 0 "case ignored"
            Expect.equal (Suggest.distance "" "seed") 4 "from nothing"
        }

        test "the tolerance is a third of the typed length, from 1 to 3" {
            Expect.equal (List.map Suggest.tolerance [ "x"; "seed"; "--sparsty"; "--replay-capacityy" ]) [ 1; 1; 3; 3 ] "1, 4, 9 and 18 characters"
        }

        test "the closest known name within the tolerance, the first of equals, none for an exact match" {
            let known = [ "train"; "sweep"; "study"; "report"; "analyze" ]
            Expect.equal (Suggest.closest known "trian") (Some "train") "swap"
            Expect.equal (Suggest.closest known "reprot") (Some "report") "swap"
            Expect.equal (Suggest.closest known "frobnicate") None "nothing near"
            Expect.equal (Suggest.closest known "train") None "exact: no suggestion"
            Expect.equal (Suggest.closest [ "ab"; "ac" ] "aa") (Some "ab") "the first of equals"
            Expect.equal (Suggest.hint known "swep") " (did you mean 'sweep'?)" "the hint"
            Expect.equal (Suggest.hint known "zzz") "" "no hint"
        }
    ]
