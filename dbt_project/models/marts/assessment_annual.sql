-- Annual assessment (年度考核) per year, group and body (DESIGN §5):
--   annual_score = mean of the four quarterly composites (a quarter without a composite,
--                  or not yet in the data, counts as 0) + red_flag_bonus per red flag
--                  − snail_penalty per snail, clamped to [0, 100]
--   rank         annual score desc; ties: more red flags, fewer snails, then code
--   grade        优秀: score >= excellent_min_score, no veto in any quarter of the year and a
--                rank within the top floor(excellent_quota × group size) places (at least 1).
--                The quota counts places, not eligible bodies: a vetoed body keeps its place
--                and the next body does not move up into the quota.
--                A body that reaches 90 but is vetoed or outside the quota is graded 良好.
--                良好 >= good_min_score; 合格 >= pass_min_score; otherwise 不合格.
with scorecard as (
    select * from {{ ref('scorecard_quarterly') }}
),

years as (
    select year, count(*) as quarters_in_data
    from {{ ref('dim_quarters') }}
    group by year
),

body_years as (
    select bodies.body_group, bodies.body_code, bodies.body_name, years.year, years.quarters_in_data
    from {{ ref('dim_bodies') }} as bodies
    cross join years
),

per_body as (
    select
        body_years.body_group,
        body_years.body_code,
        body_years.body_name,
        body_years.year,
        body_years.quarters_in_data,
        {%- for n in range(1, 5) %}
        max(scorecard.composite_score) filter (where scorecard.quarter = body_years.year || 'Q{{ n }}') as q{{ n }}_score,
        {%- endfor %}
        count(scorecard.composite_score)                            as quarters_scored,
        -- exact: the published 4-decimal composites summed as decimals, × 0.25 (a float sum in
        -- whatever order the aggregate runs could move the 4th decimal between two builds)
        coalesce(sum(cast(scorecard.composite_score as decimal(9, 4))), 0) * cast(0.25 as decimal(3, 2))
                                                                    as mean_composite,
        count(*) filter (where scorecard.flag = '红旗')             as red_flags,
        count(*) filter (where scorecard.flag = '蜗牛')             as snails,
        coalesce(bool_or(scorecard.veto), false)                    as veto,
        count(*) filter (where scorecard.talk_required)             as talks_required
    from body_years
    left join scorecard
        on scorecard.body_group = body_years.body_group
       and scorecard.body_code = body_years.body_code
       and scorecard.year = body_years.year
    group by all
),

scored as (
    select
        per_body.*,
        rules.rules_version,
        rules.red_flag_bonus,
        rules.snail_penalty,
        rules.excellent_min_score,
        rules.good_min_score,
        rules.pass_min_score,
        rules.excellent_quota,
        cast(round(least(greatest(
            per_body.mean_composite
            + cast(rules.red_flag_bonus as decimal(9, 4)) * per_body.red_flags
            - cast(rules.snail_penalty as decimal(9, 4)) * per_body.snails,
        0), 100), 4) as double)                                     as annual_score
    from per_body
    inner join {{ ref('int_rules__ranking_in_force') }} as rules
        on rules.year = per_body.year
       and rules.body_group = per_body.body_group
),

ranked as (
    select
        *,
        row_number() over (
            partition by body_group, year
            order by annual_score desc, red_flags desc, snails, body_code
        )                                                           as rank,
        count(*) over (partition by body_group, year)               as group_size
    from scored
),

graded as (
    select
        *,
        -- decimal arithmetic so that 0.2 × 15 is exactly 3, not 3.0000000000000004
        greatest(1, floor(cast(excellent_quota as decimal(9, 4)) * group_size))::integer
                                                                    as excellent_places
    from ranked
)

select
    body_group,
    body_code,
    body_name,
    year,
    annual_score,
    rank,
    case
        when annual_score >= excellent_min_score and not veto and rank <= excellent_places then '优秀'
        when annual_score >= good_min_score then '良好'
        when annual_score >= pass_min_score then '合格'
        else '不合格'
    end                                                             as grade,
    red_flags,
    snails,
    veto,
    rules_version,
    case
        when annual_score >= excellent_min_score and veto
            then '得分达到优秀线，但年内有一票否决，评为良好'
        when annual_score >= excellent_min_score and rank > excellent_places
            then '得分达到优秀线，但名次在优秀名额（' || excellent_places || '个）之外，评为良好'
    end                                                             as grade_note,
    cast(round(mean_composite, 4) as double)                        as mean_composite,
    q1_score,
    q2_score,
    q3_score,
    q4_score,
    quarters_scored,
    quarters_in_data,
    talks_required,
    group_size,
    excellent_places,
    red_flag_bonus,
    snail_penalty
from graded
