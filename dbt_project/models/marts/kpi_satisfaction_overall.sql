-- Overall satisfaction per scope and survey wave (满意度 page headline and trend): the scope
-- region's own row of kpi_satisfaction, which already counts every questionnaire of the region
-- and of every region below it (so the index is the valid-answer-weighted index of its parts).
select
    scopes.scope_code,
    scopes.scope_name,
    scopes.is_root,
    satisfaction.wave,
    satisfaction.wave_year,
    satisfaction.respondents,
    satisfaction.valid_respondents,
    satisfaction.valid_answers,
    satisfaction.satisfied_answers,
    satisfaction.satisfaction_rate,
    satisfaction.rate_ci_low,
    satisfaction.rate_ci_high,
    satisfaction.satisfaction_index,
    satisfaction.index_ci_low,
    satisfaction.index_ci_high,
    satisfaction.sample_sufficient
from {{ ref('int_regions__scopes') }} as scopes
inner join {{ ref('kpi_satisfaction') }} as satisfaction
    on satisfaction.region_code = scopes.scope_code
