using Prunerl.Agents.Checkpoints;

namespace Prunerl.Agents.Envs.MinAtar;

/// <summary>
/// MinAtar Asterix (the reference asterix.py): the player moves in four directions within rows 1 to 8;
/// enemies and gold enter from either side, one per free row, and cross it; +1 per gold picked up;
/// touching an enemy ends the game. With ramping, every 100 ramp steps (the reference's timer makes
/// that one ramp every 102 steps) things spawn one step sooner, and every second time they also move
/// one step sooner, down to every step. Channels: 0 player, 1 enemy, 2 trail (the cell behind an
/// entity), 3 gold.
/// </summary>
public sealed class Asterix : MinAtarGame
{
    private const int Player = 0, Enemy = 1, Trail = 2, Gold = 3;
    private const int Rows = 8;
    private const int RampInterval = 100;
    private const int InitialSpawnInterval = 10;
    private const int InitialMoveInterval = 5;

    /// <summary>Entity i travels along row i + 1.</summary>
    private readonly Entity[] entities = new Entity[Rows];
    private int playerX, playerY;
    private int spawnInterval, spawnTimer;
    private int moveInterval, moveTimer;
    private int rampTimer, rampIndex;

    /// <summary>An enemy or a piece of gold (or nothing, when not Active) crossing its row.</summary>
    private struct Entity
    {
        public bool Active;
        public int X;
        public bool MovesRight;
        public bool IsGold;
    }

    public Asterix(EnvironmentOptions options)
        : base("minatar/asterix", 4,
               [MinAtarAction.NoOp, MinAtarAction.Left, MinAtarAction.Up, MinAtarAction.Right, MinAtarAction.Down], options)
    {
    }

    protected override void SaveGame(StateWriter writer)
    {
        foreach (var entity in entities)
        {
            writer.Write(entity.Active);
            writer.Write(entity.X);
            writer.Write(entity.MovesRight);
            writer.Write(entity.IsGold);
        }
        foreach (var value in (int[])[playerX, playerY, spawnInterval, spawnTimer, moveInterval, moveTimer, rampTimer, rampIndex])
            writer.Write(value);
    }

    protected override void LoadGame(StateReader reader)
    {
        for (var i = 0; i < entities.Length; i++)
            entities[i] = new Entity { Active = reader.ReadBoolean(), X = reader.ReadInt32(), MovesRight = reader.ReadBoolean(), IsGold = reader.ReadBoolean() };
        (playerX, playerY, spawnInterval, spawnTimer) = (reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());
        (moveInterval, moveTimer, rampTimer, rampIndex) = (reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());
    }

    protected override void ResetGame()
    {
        playerX = 5;
        playerY = 5;
        Array.Clear(entities);
        spawnInterval = InitialSpawnInterval;
        spawnTimer = spawnInterval;
        moveInterval = InitialMoveInterval;
        moveTimer = moveInterval;
        rampTimer = RampInterval;
        rampIndex = 0;
    }

    protected override (float Reward, bool Terminal) Act(MinAtarAction action)
    {
        var reward = 0f;
        var terminal = false;
        if (spawnTimer == 0)
        {
            Spawn();
            spawnTimer = spawnInterval;
        }

        switch (action)
        {
            case MinAtarAction.Left: playerX = Math.Max(0, playerX - 1); break;
            case MinAtarAction.Right: playerX = Math.Min(Size - 1, playerX + 1); break;
            case MinAtarAction.Up: playerY = Math.Max(1, playerY - 1); break;
            case MinAtarAction.Down: playerY = Math.Min(Rows, playerY + 1); break;
        }

        // Contacts where the player now stands, then (when the move timer is up) every entity moves
        // one cell, leaving the screen at the far side, and contacts where they land.
        for (var i = 0; i < Rows; i++) Meet(i, ref reward, ref terminal);
        if (moveTimer == 0)
        {
            moveTimer = moveInterval;
            for (var i = 0; i < Rows; i++)
            {
                ref var entity = ref entities[i];
                if (!entity.Active) continue;
                entity.X += entity.MovesRight ? 1 : -1;
                if (entity.X < 0 || entity.X > Size - 1) entity.Active = false;
                else Meet(i, ref reward, ref terminal);
            }
        }

        spawnTimer--;
        moveTimer--;
        if (Ramping) Ramp();
        return (reward, terminal);
    }

    /// <summary>The player meeting entity i: gold is picked up (+1), an enemy ends the game (the step still finishes).</summary>
    private void Meet(int i, ref float reward, ref bool terminal)
    {
        ref var entity = ref entities[i];
        if (!entity.Active || entity.X != playerX || i + 1 != playerY) return;
        if (entity.IsGold)
        {
            entity.Active = false;
            reward += 1f;
        }
        else terminal = true;
    }

    /// <summary>
    /// The reference's ramp: while either interval is above 1, the ramp timer counts down from 100 to
    /// -1; the step after, spawning gets one step faster (down to 1), on odd ramps moving does too, and
    /// the timer restarts.
    /// </summary>
    private void Ramp()
    {
        if (spawnInterval <= 1 && moveInterval <= 1) return;
        if (rampTimer >= 0)
        {
            rampTimer--;
            return;
        }
        if (moveInterval > 1 && rampIndex % 2 == 1) moveInterval--;
        if (spawnInterval > 1) spawnInterval--;
        rampIndex++;
        rampTimer = RampInterval;
    }

    /// <summary>
    /// The reference's spawn: a side (even odds; from the left it moves right) and whether it is gold
    /// (one in three) are drawn first; then a free row uniformly at random, if any.
    /// </summary>
    private void Spawn()
    {
        var movesRight = Random.NextDouble() < 0.5;
        var isGold = Random.NextDouble() < 1.0 / 3;
        var free = 0;
        for (var i = 0; i < Rows; i++) if (!entities[i].Active) free++;
        if (free == 0) return;
        var pick = Random.NextInt(free);
        for (var i = 0; i < Rows; i++)
        {
            if (entities[i].Active) continue;
            if (pick-- == 0)
            {
                entities[i] = new Entity { Active = true, X = movesRight ? 0 : Size - 1, MovesRight = movesRight, IsGold = isGold };
                return;
            }
        }
    }

    protected override void Draw(Span<float> observation)
    {
        Set(observation, Player, playerY, playerX);
        for (var i = 0; i < Rows; i++)
        {
            var entity = entities[i];
            if (!entity.Active) continue;
            Set(observation, entity.IsGold ? Gold : Enemy, i + 1, entity.X);
            var behind = entity.X + (entity.MovesRight ? -1 : 1);
            if (behind >= 0 && behind <= Size - 1) Set(observation, Trail, i + 1, behind);
        }
    }

    /// <summary>For tests: puts the player at (row, column).</summary>
    internal void PlacePlayer(int row, int column)
    {
        playerY = row;
        playerX = column;
    }

    /// <summary>For tests: puts an entity on a row (1..8).</summary>
    internal void PlaceEntity(int row, int column, bool movesRight, bool isGold) =>
        entities[row - 1] = new Entity { Active = true, X = column, MovesRight = movesRight, IsGold = isGold };

    /// <summary>For tests: removes every entity.</summary>
    internal void ClearEntities() => Array.Clear(entities);

    /// <summary>For tests: sets the steps left before the next spawn and the next move.</summary>
    internal void SetTimers(int spawn, int move)
    {
        spawnTimer = spawn;
        moveTimer = move;
    }

    /// <summary>Entities on screen.</summary>
    internal int EntityCount
    {
        get
        {
            var count = 0;
            foreach (var entity in entities) if (entity.Active) count++;
            return count;
        }
    }

    /// <summary>Steps between spawns now.</summary>
    internal int SpawnInterval => spawnInterval;

    /// <summary>Steps between moves now.</summary>
    internal int MoveInterval => moveInterval;

    /// <summary>Ramps so far (the reference's difficulty_ramp()).</summary>
    public int DifficultyRamp => rampIndex;
}
